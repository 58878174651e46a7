using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// Serving a recording (<c>--brick-replay</c>): the recorded devices as the stack, and the daemon going away where the
/// recorded link dropped.
/// </summary>
public sealed partial class BrickDaemonSimulator
{
    private readonly object _listenerGate = new();

    private void ServeReplay(BrickReplay replay)
    {
        _replay = replay;
        if (replay.Devices.Count > 0)
        {
            _devices.Clear();
            foreach (var device in replay.Devices)
                Attach(SimulatedDevices.Create(device.DeviceIdentifier, device.Uid, device.ConnectedUid, device.Position));
        }
        replay.Attach(Broadcast, GoAway);
    }

    /// <summary>
    /// The daemon goes away as a killed brickd does: every client's connection ends and connects are refused, for
    /// <paramref name="downFor"/>, or for good when null (until the Lab stops).
    /// </summary>
    private void GoAway(TimeSpan? downFor)
    {
        lock (_listenerGate)
        {
            if (_stop.IsCancellationRequested) return;
            _listener?.Stop();
        }
        Client[] clients;
        lock (_clients) { clients = _clients.ToArray(); }
        foreach (var client in clients) client.Close("the replayed daemon went away");
        _log.LogInformation("Replay: the Brick Daemon went away {For}", downFor is null ? "for good" : $"for {downFor.Value.TotalMilliseconds:0} ms");
        if (downFor is TimeSpan down) _ = ComeBackAsync(down);
    }

    private async Task ComeBackAsync(TimeSpan downFor)
    {
        try
        {
            await Task.Delay(downFor, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the Lab stopped meanwhile
        }
        lock (_listenerGate)
        {
            if (_stop.IsCancellationRequested) return;
            try
            {
                var listener = new TcpListener(Endpoint!);
                listener.Start();
                _listener = listener;
                _acceptLoop = AcceptLoopAsync(listener, _stop.Token);
            }
            catch (SocketException ex)
            {
                _log.LogWarning("Replay: the Brick Daemon could not listen on {Endpoint} again: {Message}", Endpoint, ex.Message);
            }
        }
    }
}
