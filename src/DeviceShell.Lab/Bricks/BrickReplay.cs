using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// Serves a Bricks recording (docs/recording-format.md "Bricks") from the simulated Brick Daemon. The recording is a
/// sequence of requests, each keyed by UID, function and payload, with its recorded response and what the daemon sent
/// after it until the next request (callbacks, enumerate callbacks, with their delays) and whether the link dropped
/// there. A client that makes the recorded requests in order gets the recorded responses, then the traffic after each
/// at its recorded delay (divided by the speed) and the drop at its place: the daemon goes away (every client is
/// dropped and connects are refused) for as long as the recorded session took to reconnect, or for good when it never
/// did. A request out of order gets the next recorded response to the same request without its traffic or its drop
/// (<see cref="ReplaySequence{TAnswer}"/>); one never recorded is left to the simulator. Traffic recorded before the
/// first request is sent from the first connect on.
/// </summary>
internal sealed class BrickReplay
{
    private readonly object _gate = new();
    private readonly ReplaySequence<Exchange> _sequence;
    private readonly Exchange _opening;
    private readonly double _speed;
    private Action<TfpPacket> _broadcast = _ => { };
    private Action<TimeSpan?> _goAway = _ => { };
    private Task _traffic = Task.CompletedTask;
    private int _connected;

    private BrickReplay(string path, Exchange opening, IReadOnlyList<Exchange> exchanges, IReadOnlyList<BrickDevice> devices, double speed)
    {
        Path = path;
        _opening = opening;
        _sequence = new ReplaySequence<Exchange>(exchanges.Select(e => (e.Request, e)).ToList());
        Devices = devices;
        _speed = speed;
    }

    /// <summary>The recording served.</summary>
    public string Path { get; }

    /// <summary>The devices the recorded daemon announced (enumerate callbacks Available or Connected), one per UID.</summary>
    public IReadOnlyList<BrickDevice> Devices { get; }

    /// <summary>Reads a Bricks recording; fails with DeviceRecordingInvalid when it is of another world or a record is not readable.</summary>
    public static BrickReplay Load(string path, double speed)
    {
        var recording = ReplaySetting.Load(path, DeviceWorld.Brick, speed, "brick");
        var opening = new Exchange("", null, 0);
        var exchanges = new List<Exchange>();
        var devices = new Dictionary<string, BrickDevice>(StringComparer.Ordinal);
        var current = opening;
        Exchange? dropped = null;
        // A call's record is written when its answer came, with the time it started: sorted, each record sits where it happened.
        foreach (var record in recording.Records.OrderBy(r => r.GetProperty("t").GetDouble()))
        {
            double t = record.GetProperty("t").GetDouble();
            try
            {
                switch (record.GetProperty("kind").GetString())
                {
                    case "call":
                        current = new Exchange(Key(record.GetProperty("uid").GetString()!, record.GetProperty("function").GetByte(), Hex(record, "request")!), Response(record), t);
                        exchanges.Add(current);
                        break;
                    case "receive":
                        var packet = new TfpPacket(BrickUid.Parse(record.GetProperty("uid").GetString()!), record.GetProperty("function").GetByte(), 0, true, 0, Hex(record, "payload")!);
                        current.Traffic.Add(new TimedPacket(t - current.SentAt, packet));
                        if (packet.FunctionId == TfpFunction.CallbackEnumerate && packet.Payload.Length == BrickDevice.IdentityLength + 1)
                        {
                            var device = BrickDevice.FromPayload(packet.Payload);
                            if (device.EnumerationType == BrickEnumerationType.Disconnected) devices.Remove(device.Uid);
                            else devices[device.Uid] = device;
                        }
                        break;
                    case "disconnect" when record.GetProperty("reason").GetString() != nameof(BrickDisconnectReason.Request):
                        current.DropAfter ??= t - current.SentAt;
                        current.DroppedAt = t;
                        dropped = current;
                        break;
                    case "connect" when dropped is not null:
                        dropped.DownFor = t - dropped.DroppedAt;
                        dropped = null;
                        break;
                }
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or DeviceException)
            {
                throw new DeviceException(DeviceErrorKind.InvalidArgument, "DeviceRecordingInvalid",
                    $"{path}: the Bricks record at t = {t} ms is not readable ({ex.Message}).", path, ex);
            }
        }
        return new BrickReplay(path, opening, exchanges, devices.Values.ToList(), speed);
    }

    /// <summary>
    /// Serves this replay through the daemon: <paramref name="broadcast"/> sends a packet to every client that may
    /// receive device traffic, <paramref name="goAway"/> drops every client and refuses connects for the given time
    /// (null: for good). Call before the daemon starts.
    /// </summary>
    public void Attach(Action<TfpPacket> broadcast, Action<TimeSpan?> goAway)
    {
        _broadcast = broadcast;
        _goAway = goAway;
    }

    /// <summary>A client connected: the traffic recorded before the first request starts with the first one.</summary>
    public void ClientConnected()
    {
        if (Interlocked.Exchange(ref _connected, 1) == 0) Schedule(_opening);
    }

    /// <summary>
    /// The daemon's answer to a device request from the recording: the packets to send to the client (none for a request
    /// recorded without a response, or one that timed out), or null when the recording does not have the request.
    /// </summary>
    public IReadOnlyList<TfpPacket>? Answer(TfpPacket request)
    {
        var exchange = _sequence.Next(Key(BrickUid.Encode(request.Uid), request.FunctionId, request.Payload), out bool inOrder);
        if (exchange is null) return null;
        if (inOrder) Schedule(exchange);
        else if (request.Uid == BrickUid.Broadcast && request.FunctionId == TfpFunction.Enumerate)
            return Devices.Select(d => new TfpPacket(BrickUid.Parse(d.Uid), TfpFunction.CallbackEnumerate, 0, true, 0, d.ToPayload(BrickEnumerationType.Available))).ToList();
        if (exchange.Response is not RecordedResponse response || !request.ResponseExpected) return Array.Empty<TfpPacket>();
        return new[] { new TfpPacket(request.Uid, request.FunctionId, request.Sequence, true, response.ErrorCode, response.Payload) };
    }

    /// <summary>What the replay saw so far, for Get-LabReplayReport.</summary>
    public LabReplayReport Report() => _sequence.Report(DeviceWorld.Brick, Path);

    /// <summary>Sends an exchange's traffic at its recorded delays after now, then its drop, after the traffic scheduled before.</summary>
    private void Schedule(Exchange exchange)
    {
        if (exchange.Traffic.Count == 0 && exchange.DropAfter is null) return;
        long start = Environment.TickCount64;
        lock (_gate)
        {
            _traffic = _traffic.ContinueWith(async _ =>
            {
                foreach (var timed in exchange.Traffic)
                {
                    await DelayUntil(start, timed.Milliseconds).ConfigureAwait(false);
                    _broadcast(timed.Packet);
                }
                if (exchange.DropAfter is double drop)
                {
                    await DelayUntil(start, drop).ConfigureAwait(false);
                    _goAway(exchange.DownFor is double down ? TimeSpan.FromMilliseconds(down / _speed) : null);
                }
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    private Task DelayUntil(long start, double recordedMilliseconds)
    {
        long wait = start + (long)(recordedMilliseconds / _speed) - Environment.TickCount64;
        return wait > 0 ? Task.Delay(TimeSpan.FromMilliseconds(wait)) : Task.CompletedTask;
    }

    /// <summary>A request as the recording keys it: UID, function and payload hex, e.g. <c>4ER 1 </c> or <c>6qY 18 e803</c>.</summary>
    private static string Key(string uid, byte functionId, byte[] payload) => $"{uid} {functionId} {Convert.ToHexString(payload).ToLowerInvariant()}";

    private static byte[]? Hex(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Convert.FromHexString(value.GetString()!) : null;

    /// <summary>The recorded response: null for a request sent without one, or one that failed (a timeout, the link lost).</summary>
    private static RecordedResponse? Response(JsonElement record) =>
        Hex(record, "response") is byte[] payload
            ? new RecordedResponse(payload, record.TryGetProperty("errorCode", out var code) ? code.GetByte() : (byte)0)
            : null;

    private sealed record RecordedResponse(byte[] Payload, byte ErrorCode);

    private sealed record TimedPacket(double Milliseconds, TfpPacket Packet);

    private sealed class Exchange(string request, RecordedResponse? response, double sentAt)
    {
        public string Request { get; } = request;

        public RecordedResponse? Response { get; } = response;

        public double SentAt { get; } = sentAt;

        public List<TimedPacket> Traffic { get; } = new();

        /// <summary>When the link dropped after this request, if it did.</summary>
        public double? DropAfter { get; set; }

        /// <summary>The recording time of that drop.</summary>
        public double DroppedAt { get; set; }

        /// <summary>How long the recorded session took to connect again after the drop; null when it never did.</summary>
        public double? DownFor { get; set; }
    }
}
