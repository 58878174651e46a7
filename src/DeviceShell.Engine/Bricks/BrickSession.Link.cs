using System.Net.Sockets;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// The link's side: what arrives is dispatched (responses to their waiting caller, callbacks into the queue), and each
/// TCP connection has its reader, its sweep (timeouts, stalled writes, the disconnect probe) and its sequence counter.
/// </summary>
public sealed partial class BrickSession
{
    /// <summary>Runs on the reader thread: responses go straight to their waiting caller, callbacks into the queue.</summary>
    private void Dispatch(Link link, TfpPacket packet)
    {
        if (packet.Sequence != 0)
        {
            // Completes the caller inline, on this reader thread: no thread-pool hand-off per round trip.
            if (!_slots.TryGetValue(packet.Uid, out var slot) || !slot.TryAnswer(link, packet))
                Interlocked.Increment(ref _staleResponses);
            return;
        }
        if (packet.FunctionId != 0) RecordReceived(packet);
        if (packet.FunctionId == TfpFunction.CallbackEnumerate)
        {
            // The bindings ignore enumerate callbacks of any other length; so do we.
            if (packet.Payload.Length != BrickDevice.IdentityLength + 1) return;
            var device = BrickDevice.FromPayload(packet.Payload, this);
            if (device.EnumerationType == BrickEnumerationType.Disconnected) _knownDevices.TryRemove(device.Uid, out _);
            else _knownDevices[device.Uid] = device;
            ForgetDeviceType(packet.Uid);
            // After the caches: a failed call's continuation runs inline here and may ask for the UID's type.
            if (device.EnumerationType != BrickEnumerationType.Disconnected) NoteAnnouncedType(packet.Uid, device.DeviceIdentifier);
            Action<BrickDevice>[] observers;
            lock (_enumerateObservers) { observers = _enumerateObservers.ToArray(); }
            foreach (var observe in observers) observe(device);
            // Available answers while EnumerateAsync collects are the answer to the module's own request, not background events.
            if (observers.Length > 0 && device.EnumerationType == BrickEnumerationType.Available) return;
            _events.Post(new BrickEvent(this, BrickEventKind.Enumerate, device.Uid, packet.FunctionId, packet.Payload, device, null));
            return;
        }
        if (packet.FunctionId == 0) return; // CALLBACK_FORCED_ACK of a WIFI Extension: not a callback
        _events.Post(new BrickEvent(this, BrickEventKind.Callback, BrickUid.Encode(packet.Uid), packet.FunctionId, packet.Payload, null, null));
        AssembleStreamCallback(packet);
    }

    private const string WriteCancelled = "a write was cancelled before it completed";

    /// <summary>How often each link looks for requests past their deadline, stalled writes and the need to probe.</summary>
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// One TCP connection: its socket, its reader thread (<see cref="BlockingSocket"/>: one wake-up per round trip), its
    /// sweep (timeouts, stalls, probe) and its sequence counter.
    /// </summary>
    private sealed class Link
    {
        private readonly BrickSession _session;
        private readonly Socket _socket;
        private int _sequence;
        private int _traffic;
        private long _writeStartedAt;
        private long _writeLimitMs;
        private int _dead;
        private int _lossClaimed;
        private readonly LinkReader _reader;
        private readonly TfpFramer _framer = new(TfpPacket.MaxAcceptedLength);
        private DeviceException? _malformed;

        public Link(BrickSession session, Socket socket)
        {
            _session = session;
            _socket = socket;
            _reader = new LinkReader(socket, Received);
        }

        public SemaphoreSlim WriteLock { get; } = new(1, 1);

        public CancellationTokenSource Stop { get; } = new();

        public bool IsDead => Volatile.Read(ref _dead) != 0;

        public BrickDisconnectReason DropReason { get; private set; }

        public DeviceException? LostError { get; private set; }

        /// <summary>1, 2, ..., 15, 1, ... (0 is reserved for callbacks).</summary>
        public byte NextSequence() => (byte)((uint)(Interlocked.Increment(ref _sequence) - 1) % 15 + 1);

        public void MarkTraffic() => Volatile.Write(ref _traffic, 1);

        /// <summary>A write starts: the sweep drops the link if it is still running after <paramref name="timeout"/> or the probe interval.</summary>
        public void BeginWrite(TimeSpan timeout)
        {
            long limit = (long)Math.Min(timeout.TotalMilliseconds, _session._options.DisconnectProbeInterval.TotalMilliseconds);
            Volatile.Write(ref _writeLimitMs, Math.Max(1, limit));
            Volatile.Write(ref _writeStartedAt, Environment.TickCount64);
        }

        public void EndWrite()
        {
            Volatile.Write(ref _writeStartedAt, 0);
            MarkTraffic();
        }

        public bool MarkDead(BrickDisconnectReason reason, DeviceException error)
        {
            if (Interlocked.Exchange(ref _dead, 1) != 0) return false;
            DropReason = reason;
            LostError = error;
            return true;
        }

        /// <summary>True for the one caller that gets to announce this link's loss.</summary>
        public bool ClaimLoss() => Interlocked.Exchange(ref _lossClaimed, 1) == 0;

        public void Start()
        {
            _reader.Start();
            _ = DropWhenReadingEndsAsync();
            _ = Task.Run(SweepLoopAsync);
        }

        public void Close()
        {
            Stop.Cancel();
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
            _socket.Dispose();
            _reader.Stop();
        }

        /// <summary>Writes all of <paramref name="bytes"/>; a stalled write is ended by the sweep, which drops the link.</summary>
        /// <exception cref="SocketException">The connection failed or was closed.</exception>
        /// <exception cref="ObjectDisposedException">The link was closed.</exception>
        public void Write(ReadOnlySpan<byte> bytes) => BlockingSocket.Send(_socket, bytes);

        /// <summary>Ends a write whose caller gave up: the link goes, since part of a packet may be on the wire.</summary>
        public void CancelWrite() => _session.Drop(this, BrickDisconnectReason.Error, WriteCancelled);

        /// <summary>Runs on the reader thread: frames the bytes and dispatches each packet; false when the stream is broken.</summary>
        private bool Received(ReadOnlySpan<byte> bytes)
        {
            MarkTraffic();
            try
            {
                while (!bytes.IsEmpty)
                {
                    bytes = bytes[_framer.Fill(bytes)..];
                    while (_framer.TryTake(out var packet)) _session.Dispatch(this, packet);
                }
                return true;
            }
            catch (InvalidDataException ex)
            {
                // There is no way to find the next header in a TCP stream once a length is wrong: start afresh.
                // Not STREAM_OUT_OF_SYNC: the bindings mean chunks of a high-level stream by that (BrickSession.Streams.cs).
                _malformed = BrickErrors.Create(DeviceErrorKind.Protocol, "MalformedPacket",
                    $"The byte stream from {_session.Endpoint} is out of sync ({ex.Message}): the connection was dropped; is the peer a Brick Daemon?", _session.Endpoint, ex);
                return false;
            }
        }

        private async Task DropWhenReadingEndsAsync()
        {
            var failure = await _reader.Completion.ConfigureAwait(false);
            if (_malformed is not null)
                _session.Drop(this, BrickDisconnectReason.Error, "malformed packet: " + _malformed.InnerException!.Message, _malformed);
            else if (failure is null)
                _session.Drop(this, BrickDisconnectReason.Shutdown, "the daemon closed the connection");
            else
                _session.Drop(this, BrickDisconnectReason.Error, "receive failed: " + failure.Message);
        }

        /// <summary>
        /// The link's one timer: fails requests past their deadline, drops the link when a write has stalled (the daemon
        /// stopped reading), and sends the disconnect probe when nothing went over the link for the probe interval.
        /// </summary>
        private async Task SweepLoopAsync()
        {
            // The bindings take the probe's sequence number once per connection.
            var probe = new TfpPacket(BrickUid.Broadcast, TfpFunction.DisconnectProbe, NextSequence(), false, 0, Array.Empty<byte>());
            var probeInterval = _session._options.DisconnectProbeInterval;
            long quietSince = Environment.TickCount64;
            using var timer = new PeriodicTimer(SweepPeriod);
            try
            {
                while (await timer.WaitForNextTickAsync(Stop.Token).ConfigureAwait(false))
                {
                    long now = Environment.TickCount64;
                    foreach (var (_, slot) in _session._slots) slot.ExpireIfDue(this, now, _session); // lock-free, unlike .Values
                    long writing = Volatile.Read(ref _writeStartedAt);
                    if (writing != 0 && now - writing > Volatile.Read(ref _writeLimitMs))
                    {
                        _session.Drop(this, BrickDisconnectReason.Error, $"a write stalled for {(now - writing) / 1000.0:0.#} s: the daemon stopped reading");
                        return;
                    }
                    if (Interlocked.Exchange(ref _traffic, 0) != 0) quietSince = now;
                    else if (now - quietSince >= probeInterval.TotalMilliseconds && WriteLock.CurrentCount > 0)
                    {
                        quietSince = now;
                        _ = ProbeAsync(probe, probeInterval);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // The link ended.
            }
        }

        private async Task ProbeAsync(TfpPacket probe, TimeSpan probeInterval)
        {
            try
            {
                await _session.SendAsync(this, probe, probeInterval, Stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or DeviceException)
            {
                // The link ended; Drop has run (SendAsync drops the link when the probe cannot be written).
            }
        }
    }
}
