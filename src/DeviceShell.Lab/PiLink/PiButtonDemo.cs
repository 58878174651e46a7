using System.Text.Json.Nodes;
using DeviceShell.Engine.PiLink;
using DeviceShell.Lab.Demo;

namespace DeviceShell.Lab.PiLink;

/// <summary>The tutorial's button link: a client asks "go" while the simulated button is pressed and released.</summary>
public sealed class PiButtonDemo : ILabDemo
{
    public string Simulator => "pibutton";

    public async Task RunAsync(LabDemoContext context, CancellationToken cancellationToken)
    {
        await using var link = new PiLinkSession(context.Endpoint.Host, context.Endpoint.Port);
        var state = await link.ConnectAsync(cancellationToken).ConfigureAwait(false);
        context.Say($"Connect-PiLink {context.Endpoint.Host}:{context.Endpoint.Port} -> {PiLinkMessage.NameOf(state)}");
        foreach (bool pressed in new[] { false, true, false })
        {
            await context.ControlAsync("set", new JsonObject { ["pressed"] = pressed }, cancellationToken).ConfigureAwait(false);
            var reply = await link.SendAndReceiveReplyAsync("go", TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            context.Say($"button {(pressed ? "down" : "up  ")}: go -> {reply.Text}");
        }
    }
}
