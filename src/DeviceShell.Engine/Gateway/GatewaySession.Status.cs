using DeviceShell.Engine.Sessions;
using Grpc.Core;
using Gsdk.Connect;

namespace DeviceShell.Engine.Gateway;

/// <summary>The session's status subscription: its one reader task and what it does when the gateway takes the subscription.</summary>
public sealed partial class GatewaySession
{
    /// <summary>The one reader task of the session: keeps the status stream open, resubscribing with a growing delay.</summary>
    private async Task ReadStatusAsync(CancellationToken closing)
    {
        var delay = FirstResubscribeDelay;
        while (!closing.IsCancellationRequested)
        {
            long opened = Environment.TickCount64;
            string cause;
            try
            {
                using var call = _client.SubscribeStatus(new SubscribeStatusRequest { QueueSize = StatusQueueSize }, cancellationToken: closing);
                // Headers mean the gateway accepted the subscription (many send them only with the first change).
                await call.ResponseHeadersAsync.ConfigureAwait(false);
                OnSubscribed();
                await foreach (var change in call.ResponseStream.ReadAllAsync(closing).ConfigureAwait(false))
                {
                    StatusChanges.Post(new GatewayStatusChange
                    {
                        DeviceId = change.DeviceID, Status = (GatewayDeviceStatus)change.Status, Timestamp = DateTimeOffset.FromUnixTimeSeconds(change.Timestamp).LocalDateTime,
                    });
                }
                cause = "the gateway ended the status stream";
            }
            catch (OperationCanceledException) when (closing.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex)
            {
                // The gateway went away, ended the stream with an error, missed its keep-alive, or sent a message that
                // does not parse or is too large: all of them mean changes may be lost, so resubscribe below.
                cause = GatewayErrors.From(ex, "SubscribeStatus", Endpoint, Endpoint).Message;
            }
            if (closing.IsCancellationRequested) return;
            if (Environment.TickCount64 - opened >= StableStream.TotalMilliseconds) delay = FirstResubscribeDelay;
            if (Interlocked.Exchange(ref _resubscribing, 1) == 0) _dropCause = cause;
            SetState(DeviceSessionState.Reconnecting);
            try
            {
                await Task.Delay(delay * (0.8 + 0.4 * Random.Shared.NextDouble()), closing).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxResubscribeDelay.Ticks));
        }
    }

    private void OnSubscribed()
    {
        _headersReceived.TrySetResult();
        SetState(DeviceSessionState.Connected);
        if (Interlocked.Exchange(ref _resubscribing, 0) == 0) return;
        Interlocked.Increment(ref _resubscriptions);
        StatusChanges.Post(new GatewayStatusChange
        {
            IsGap = true, Timestamp = DateTime.Now,
            Message = $"The status stream dropped ({_dropCause}) and was subscribed again; changes in between may be missing (check Get-GatewayDevice).",
        });
    }

    /// <summary>Ends the status subscription, returns the channel lease and ends the event buffer (waiting Receive-GatewayStatus calls return).</summary>
    protected override async ValueTask CloseCoreAsync()
    {
        _closing.Cancel();
        if (_statusReader is not null)
        {
            try
            {
                await _statusReader.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Its call was cancelled with _closing; the lease is released below all the same.
            }
        }
        _channel.Dispose();
        StatusChanges.Dispose();
        _closing.Dispose();
    }
}
