using System.Security;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Demo;

namespace DeviceShell.Lab.Webifi;

/// <summary>Two sessions on the relay's sample account, one per transport, talking and discovering each other.</summary>
public sealed class WebifiDemo : ILabDemo
{
    public string Simulator => "webifi";

    public async Task RunAsync(LabDemoContext context, CancellationToken cancellationToken)
    {
        var server = new Uri($"http://{context.Endpoint.Host}:{context.Endpoint.Port}/");
        using var password = new SecureString();
        foreach (char c in "pswd") password.AppendChar(c);
        password.MakeReadOnly();
        WebifiConnectOptions Options(string name, WebifiTransport transport) => new()
        {
            Server = server, ConnectName = "webifi", ConnectPassword = password, Networks = new[] { "lab" }, Name = name, Transport = transport,
        };

        await using var sensor = await WebifiSession.ConnectAsync(Options("sensor", WebifiTransport.WebSocket), cancellationToken).ConfigureAwait(false);
        await using var desk = await WebifiSession.ConnectAsync(Options("desk", WebifiTransport.LongPolling), cancellationToken).ConfigureAwait(false);
        context.Say($"Connect-Webifi: 'sensor' over WebSocket (session {sensor.SessionId}), 'desk' over long polling (session {desk.SessionId})");

        foreach (string reading in new[] { "21.5", "21.7" })
            await sensor.SendAsync(WebifiOutgoing.Text(reading, "temperature", new[] { "lab" }), cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < 2; i++)
        {
            var (taken, message) = await desk.Messages.TakeAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (!taken) throw new TimeoutException("The desk did not receive the sensor's readings.");
            context.Say($"Receive-WebifiData: '{message.Data}' ({message.DataType}) from session {message.FromSessionId}");
        }

        var found = await desk.DiscoverAsync(new[] { "lab" }, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        context.Say($"Find-WebifiDevice -Network lab: {string.Join(", ", found.Select(d => $"{d.Name} ({d.SessionId})"))}");
    }
}
