using Grpc.Core;
using Gsdk.Connect;
using Status = Gsdk.Connect.Status;

namespace DeviceShell.Lab.Gateway;

/// <summary>Status changes: the SubscribeStatus streams, and the reconnect loop that brings async connections back.</summary>
public sealed partial class GatewaySimulator
{
    private async Task StreamStatusAsync(SubscribeStatusRequest request, IServerStreamWriter<StatusChange> stream, ServerCallContext context)
    {
        // Headers go out at once, so the client knows the stream is open before the first change.
        await context.WriteResponseHeadersAsync(new Metadata()).ConfigureAwait(false);
        var subscriber = new StatusSubscriber(request.QueueSize > 0 ? request.QueueSize : 16);
        lock (_gate) { _subscribers.Add(subscriber); }
        try
        {
            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, _stop.Token);
            await foreach (var change in subscriber.Queue.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
                await stream.WriteAsync(change, stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw Failure(StatusCode.Unavailable, "The gateway is shutting down.");
        }
        finally
        {
            lock (_gate)
            {
                _subscribers.Remove(subscriber);
                _droppedByClosedStreams += subscriber.Dropped;
            }
            if (subscriber.Dropped > 0) _log.LogInformation("A status subscriber read too slowly: {Dropped} change(s) discarded", subscriber.Dropped);
        }
    }

    private void SetStatus(ManagedDevice managed, Status status)
    {
        if (managed.Status == status) return;
        managed.Status = status;
        Publish(managed.Device.Id, status);
    }

    private void Publish(uint deviceId, Status status)
    {
        var change = new StatusChange { DeviceID = deviceId, Status = status, Timestamp = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds() };
        foreach (var subscriber in _subscribers) subscriber.Queue.Writer.TryWrite(change);
    }

    private async Task ReconnectLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(ReconnectInterval, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            lock (_gate) { Reconcile(); }
        }
    }

    /// <summary>
    /// Brings the managed list in line with the subnet: connections to absent devices drop, async
    /// connections are (re)tried, device-to-server devices either connect (admitted by the filter) or wait
    /// in the pending list with the time of their last try. Called under the lock.
    /// </summary>
    private void Reconcile()
    {
        foreach (var managed in _managed.Values.ToArray())
        {
            if (_subnet.TryGetValue(managed.Device.Id, out var onSubnet)) managed.Device = onSubnet;
            var device = managed.Device;
            bool reachable = device.Present && (managed.Kind == ManagedKind.Incoming
                ? device.Mode == ConnectionMode.DeviceToServer
                : device.Mode == ConnectionMode.ServerToDevice && device.IPAddress == managed.IPAddress && device.Port == managed.Port);
            if (managed.Kind != ManagedKind.Async)
            {
                if (!reachable) Drop(managed);
                continue;
            }
            if (managed.Connected && reachable) continue;
            Status next = !reachable ? (managed.Connected ? Status.Disconnected : managed.UseSsl ? Status.TlsCannotConnect : Status.TcpCannotConnect)
                : device.SslEnabled != managed.UseSsl ? (managed.UseSsl ? Status.TlsCannotConnect : Status.TcpCannotConnect)
                : managed.UseSsl ? Status.TlsConnected : Status.TcpConnected;
            SetStatus(managed, next);
        }

        uint now = (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var device in _subnet.Values.Where(d => d.Present && d.Mode == ConnectionMode.DeviceToServer))
        {
            if (_managed.ContainsKey(device.Id)) continue;
            if (_filter.AllowAll || _filter.DeviceIDs.Contains(device.Id))
            {
                _pending.Remove(device.Id);
                var managed = new ManagedDevice { Device = device, Kind = ManagedKind.Incoming, IPAddress = device.IPAddress, Port = device.Port, UseSsl = device.SslEnabled };
                _managed[device.Id] = managed;
                SetStatus(managed, device.SslEnabled ? Status.TlsConnected : Status.TcpConnected);
            }
            else
            {
                _pending[device.Id] = new PendingDeviceInfo { DeviceID = device.Id, Type = device.Type, IPAddr = device.IPAddress, LastTry = now };
            }
        }
    }
}
