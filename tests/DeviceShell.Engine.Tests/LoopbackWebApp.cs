using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace DeviceShell.Engine.Tests;

/// <summary>What the tests' own Kestrel servers (hostile or strict peers) share: their port, and a bounded stop.</summary>
internal static class LoopbackWebApp
{
    /// <summary>The port Kestrel bound (the app listens on port 0).</summary>
    public static int PortOf(WebApplication app) =>
        new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

    /// <summary>Stops within 2 s (what is still open, streams or sockets, is cut then) and disposes.</summary>
    public static async Task StopAsync(WebApplication app)
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await app.StopAsync(grace.Token);
        }
        catch (OperationCanceledException)
        {
            // Open streams and sockets are cut when the grace period ends.
        }
        await app.DisposeAsync();
    }
}
