using DeviceShell.Engine.Gateway;
using DeviceShell.Lab.Demo;

namespace DeviceShell.Lab.Gateway;

/// <summary>The tutorial's menus in short: search the subnet, connect what answers, admit the waiting device.</summary>
public sealed class GatewayDemo : ILabDemo
{
    public string Simulator => "gateway";

    public async Task RunAsync(LabDemoContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.Endpoint;
        await using var session = await GatewaySession.ConnectAsync(endpoint.Host, endpoint.Port, endpoint.CaCertificate!, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        context.Say($"Connect-Gateway {endpoint.Host}:{endpoint.Port} over TLS, trusting only {Path.GetFileName(endpoint.CaCertificate)}");

        var found = await session.SearchAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        foreach (var device in found) context.Say($"Find-GatewayDevice: {device.DeviceId} {device.Type} {device.IPAddress}:{device.Port} {device.ConnectionMode}");

        var serverToDevice = found.Where(d => d.ConnectionMode == GatewayConnectionMode.ServerToDevice).ToList();
        await session.AddAsyncConnectionsAsync(serverToDevice.Select(d => new GatewayAsyncConnection(d.DeviceId, d.IPAddress, d.Port, d.UseSsl)), cancellationToken).ConfigureAwait(false);
        int connected = 0;
        while (connected < serverToDevice.Count)
        {
            var (taken, change) = await session.StatusChanges.TakeAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            if (!taken) throw new TimeoutException("The async connections did not all report connected.");
            context.Say($"Receive-GatewayStatus: {change}");
            if (change.Status is GatewayDeviceStatus.TcpConnected or GatewayDeviceStatus.TlsConnected) connected++;
        }

        var pending = await session.GetPendingDevicesAsync(cancellationToken).ConfigureAwait(false);
        foreach (var device in pending) context.Say($"Get-GatewayPendingDevice: {device}");
        var filter = await session.GetAcceptFilterAsync(cancellationToken).ConfigureAwait(false);
        await session.SetAcceptFilterAsync(new GatewayAcceptFilter { DeviceId = filter.DeviceId.Union(pending.Select(p => p.DeviceId)).ToArray() }, cancellationToken).ConfigureAwait(false);
        context.Say($"Set-AcceptFilter -Add {string.Join(", ", pending.Select(p => p.DeviceId))}");

        var devices = await session.GetDevicesAsync(cancellationToken).ConfigureAwait(false);
        context.Say($"Get-GatewayDevice: {devices.Count} managed device(s): {string.Join(", ", devices.Select(d => $"{d.DeviceId} {d.Status}"))}");
    }
}
