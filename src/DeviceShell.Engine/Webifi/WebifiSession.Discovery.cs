using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Webifi;

/// <summary>Discovery: requests to the networks, answers collected for a while, and answers given when discoverable.</summary>
public sealed partial class WebifiSession
{
    private const string DiscoveryType = "Discovery";
    private const string DiscoveryResponseType = "Discovery Response";

    /// <summary>
    /// Sends a discovery request and collects the Discovery Responses that arrive within <paramref name="timeout"/>,
    /// which bounds the whole call: a relay that does not acknowledge the request in that time is a
    /// <see cref="DeviceErrorKind.Timeout"/> (the request stays queued and may still go out).
    /// </summary>
    public async Task<IReadOnlyList<WebifiDevice>> DiscoverAsync(IReadOnlyList<string>? networks, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        var found = new List<WebifiDevice>();
        Action<WebifiDevice> collect = device => { lock (found) { found.Add(device); } };
        lock (_discoveryCollectors) { _discoveryCollectors.Add(collect); }
        try
        {
            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                bound.CancelAfter(timeout);
                try
                {
                    await SendAsync(WebifiOutgoing.Text("?", DiscoveryType, networks), bound.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new DeviceException(DeviceErrorKind.Timeout, "WebifiTimeout",
                        $"The Webifi relay did not acknowledge the discovery request within {timeout.TotalSeconds:0.#} s (session {State}).", this, ex);
                }
            }
            var left = deadline - DateTime.UtcNow;
            if (left > TimeSpan.Zero) await Task.Delay(left, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_discoveryCollectors) { _discoveryCollectors.Remove(collect); }
        }
        IReadOnlyList<WebifiDevice> devices;
        lock (found) { devices = found.GroupBy(d => d.SessionId).Select(g => g.First()).ToList(); }
        KnownDevices = devices;
        return devices;
    }

    /// <summary>The devices the last discovery found (for tab completion of recipients).</summary>
    public IReadOnlyList<WebifiDevice> KnownDevices { get; private set; } = Array.Empty<WebifiDevice>();

    /// <summary>True when a received message was discovery traffic handled here rather than data for the application.</summary>
    private bool TakeDiscovery(int from, string dataType, byte[] data, DateTime now)
    {
        if (dataType == DiscoveryType && _discoverable && data is [(byte)'?'])
        {
            // Answered for the application, as the official libraries do; not passed on.
            _ = SendAsync(WebifiOutgoing.Text(_name, DiscoveryResponseType, toSessionIds: new[] { from })).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            return true;
        }
        if (dataType != DiscoveryResponseType) return false;
        var device = new WebifiDevice(Encoding.UTF8.GetString(data), from, now);
        lock (_discoveryCollectors)
        {
            foreach (var collect in _discoveryCollectors) collect(device);
            // Collected as the answer to the module's own discovery: not a background message.
            return _discoveryCollectors.Count > 0;
        }
    }
}
