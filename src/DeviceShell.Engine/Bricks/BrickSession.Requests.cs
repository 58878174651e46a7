using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

public sealed partial class BrickSession
{
    private async Task<TfpPacket> ExchangeOnLinkAsync(Link link, uint uid, byte functionId, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken, int deviceIdentifier = 0)
    {
        var slot = _slots.GetOrAdd(uid, static _ => new RequestSlot());
        if (!await slot.Lock.WaitAsync(timeout, cancellationToken).ConfigureAwait(false)) throw TimedOut(uid, functionId, timeout);
        try
        {
            var request = new TfpPacket(uid, functionId, link.NextSequence(), true, 0, payload);
            long id = slot.Arm(link, uid, functionId, request.Sequence, timeout, deviceIdentifier);
            // Drop marks the link dead before failing the armed slots: whichever runs second sees the other.
            if (link.IsDead)
            {
                slot.TryFail(id, link.LostError ?? LinkLost("closed"));
            }
            else
            {
                try
                {
                    await SendAsync(link, request, timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
                {
                    slot.TryFail(id, ex);
                }
            }
            // The link's sweep fails the slot at its deadline; Drop fails it when the link ends.
            using var cancellation = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((RequestSlot.Cancellation)state!).Fire(), new RequestSlot.Cancellation(slot, id, cancellationToken))
                : default;
            try
            {
                return await slot.Response.ConfigureAwait(false);
            }
            catch (DeviceException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller's cancellation dropped the link (a half-sent packet): it asked to stop, so it hears that.
                throw new OperationCanceledException(cancellationToken);
            }
        }
        finally
        {
            slot.Lock.Release();
        }
    }

    private static DeviceException TimedOut(uint uid, byte functionId, TimeSpan timeout)
    {
        string target = BrickUid.Encode(uid);
        return BrickErrors.Create(DeviceErrorKind.Timeout, "RequestTimeout",
            $"Device {target} did not answer function {functionId} within {timeout.TotalSeconds:0.###} s (unknown UID, unplugged device, or a daemon without that device).", target);
    }

    /// <summary>
    /// Writes one packet. Waiting for the write lock honours <paramref name="cancellationToken"/> and <paramref name="timeout"/>;
    /// a write that is cancelled or fails half way leaves part of a packet on the wire, so the link is dropped then. A write
    /// that stalls (the daemon stopped reading) past the timeout or the probe interval is ended by the link's sweep.
    /// </summary>
    private async ValueTask SendAsync(Link link, TfpPacket packet, TimeSpan timeout, CancellationToken cancellationToken)
    {
        byte[] bytes = packet.ToBytes();
        if (!await link.WriteLock.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
            throw BrickErrors.Create(DeviceErrorKind.Timeout, "RequestTimeout",
                $"The request to device {BrickUid.Encode(packet.Uid)} could not be sent within {timeout.TotalSeconds:0.###} s: earlier writes to {Endpoint} are stalled.", Endpoint);
        try
        {
            if (link.IsDead) throw link.LostError ?? LinkLost("closed");
            link.BeginWrite(timeout);
            using (cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(static state => ((Link)state!).CancelWrite(), link) : default)
                link.Write(bytes);
            link.EndWrite();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            link.EndWrite();
            bool cancelled = cancellationToken.IsCancellationRequested;
            Drop(link, BrickDisconnectReason.Error, cancelled ? WriteCancelled : "sending failed: " + ex.Message);
            if (cancelled) throw new OperationCanceledException("The write was cancelled; the connection was dropped because part of a packet may have been sent.", ex, cancellationToken);
            throw link.LostError ?? LinkLost(ex.Message);
        }
        finally
        {
            link.WriteLock.Release();
        }
    }

    private DeviceException LinkLost(string why) =>
        BrickErrors.Create(DeviceErrorKind.Connection, "ConnectionLost", $"The connection to the Brick Daemon at {Endpoint} was lost ({why}).", Endpoint);

    /// <summary>
    /// One device's request slot, reused for every request to it (requests to one device are serialised by
    /// <see cref="Lock"/>): the awaitable the reader completes with the response, inline and without allocating, and
    /// what identifies the response it waits for. Exactly one of the reader, the link's sweep (deadline), Drop (link
    /// lost), a send failure or the caller's cancellation completes each armed request: they race for <c>_armed</c>.
    /// </summary>
    private sealed class RequestSlot : IValueTaskSource<TfpPacket>
    {
        // Continuations run where the result is set (the reader task): a round trip costs no thread-pool hand-off.
        private ManualResetValueTaskSourceCore<TfpPacket> _core = new() { RunContinuationsAsynchronously = false };
        private long _armed;
        private long _lastId;
        private Link? _link;
        private uint _uid;
        private byte _functionId;
        private byte _sequence;
        private int _deviceIdentifier;
        private TimeSpan _timeout;
        private long _deadline;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        /// <summary>The armed request's response (or its error); await it once per <see cref="Arm"/>.</summary>
        public ValueTask<TfpPacket> Response => new(this, _core.Version);

        /// <summary>
        /// Prepares the slot for the next request (the caller holds <see cref="Lock"/>); returns the request's id.
        /// <paramref name="deviceIdentifier"/> is the device type the request is made for, 0 for none.
        /// </summary>
        public long Arm(Link link, uint uid, byte functionId, byte sequence, TimeSpan timeout, int deviceIdentifier)
        {
            _core.Reset();
            _deviceIdentifier = deviceIdentifier;
            _link = link;
            _uid = uid;
            _functionId = functionId;
            _sequence = sequence;
            _timeout = timeout;
            _deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
            long id = ++_lastId;
            Interlocked.Exchange(ref _armed, id); // a full fence: Drop's IsDead check and this store cannot pass each other
            return id;
        }

        /// <summary>Reader: completes the armed request when <paramref name="packet"/> is its response.</summary>
        public bool TryAnswer(Link link, TfpPacket packet)
        {
            long id = Volatile.Read(ref _armed);
            return id != 0 && _link == link && _functionId == packet.FunctionId && _sequence == packet.Sequence && TryComplete(id, packet, null);
        }

        public bool TryFail(long id, Exception error) => TryComplete(id, default, error);

        /// <summary>Drop: fails the armed request if it went out on <paramref name="link"/>.</summary>
        public void FailIfOn(Link link, Exception error)
        {
            long id = Volatile.Read(ref _armed);
            if (id != 0 && _link == link) TryFail(id, error);
        }

        /// <summary>
        /// Reader, on an announcement of <paramref name="deviceIdentifier"/> at the slot's UID: fails the armed request
        /// when it was made for another device type; returns that type's identifier then.
        /// </summary>
        public int? FailIfMadeForOtherThan(int deviceIdentifier, Func<int, Exception> error)
        {
            long id = Volatile.Read(ref _armed);
            int madeFor = _deviceIdentifier;
            return id != 0 && madeFor != 0 && madeFor != deviceIdentifier && TryFail(id, error(madeFor)) ? madeFor : null;
        }

        /// <summary>The link's sweep: fails the armed request once its deadline has passed.</summary>
        public void ExpireIfDue(Link link, long now, BrickSession session)
        {
            long id = Volatile.Read(ref _armed);
            if (id != 0 && _link == link && now >= _deadline) TryFail(id, TimedOut(_uid, _functionId, _timeout));
        }

        private bool TryComplete(long id, TfpPacket packet, Exception? error)
        {
            if (Interlocked.CompareExchange(ref _armed, 0, id) != id) return false;
            if (error is null) _core.SetResult(packet);
            else _core.SetException(error);
            return true;
        }

        public TfpPacket GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        /// <summary>What a caller's cancellation registration needs to fail exactly its own request.</summary>
        public sealed class Cancellation
        {
            private readonly RequestSlot _slot;
            private readonly long _id;
            private readonly CancellationToken _token;

            public Cancellation(RequestSlot slot, long id, CancellationToken token)
            {
                _slot = slot;
                _id = id;
                _token = token;
            }

            public void Fire() => _slot.TryFail(_id, new OperationCanceledException(_token));
        }
    }
}
