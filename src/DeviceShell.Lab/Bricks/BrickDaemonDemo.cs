using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Demo;

namespace DeviceShell.Lab.Bricks;

/// <summary>Connect, enumerate, read every thermometer, then watch a bricklet being plugged in.</summary>
public sealed class BrickDaemonDemo : ILabDemo
{
    public string Simulator => "brick";

    public async Task RunAsync(LabDemoContext context, CancellationToken cancellationToken)
    {
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = context.Endpoint.Host, Port = context.Endpoint.Port }, cancellationToken).ConfigureAwait(false);
        context.Say($"Connect-Brick {context.Endpoint.Host}:{context.Endpoint.Port} -> {session.State}");
        var devices = await session.EnumerateAsync(TimeSpan.FromSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false);
        context.Say($"Get-BrickEnumeration: {devices.Count} device(s)");
        foreach (var device in devices)
        {
            string reading = "";
            if (BrickDeviceClient.Create(session, device.Uid, device.DeviceIdentifier) is IBrickThermometer thermometer)
                reading = $", {await thermometer.GetTemperatureAsync(cancellationToken).ConfigureAwait(false):0.00} °C";
            context.Say($"  {device.Uid,-6} on {device.ConnectedUid,-6} '{device.Position}'  {device.DeviceName}{reading}");
        }

        await context.ControlAsync("add-device", new JsonObject { ["uid"] = "Dem", ["deviceIdentifier"] = TemperatureV2Bricklet.Identifier }, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var (taken, item) = await session.Events.TakeAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            if (!taken) throw new TimeoutException("No enumerate callback for the plugged bricklet.");
            if (item.Uid != "Dem") continue;
            context.Say($"Add-LabBrickDevice Dem -> callback: {item}");
            break;
        }
    }
}
