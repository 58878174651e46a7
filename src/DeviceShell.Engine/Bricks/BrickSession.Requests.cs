using System.Threading.Tasks.Sources;

namespace DeviceShell.Engine.Bricks;

public sealed partial class BrickSession
{
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
        private TimeSpan _timeout;
        private long _deadline;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        /// <summary>The armed request's response (or its error); await it once per <see cref="Arm"/>.</summary>
        public ValueTask<TfpPacket> Response => new(this, _core.Version);

        /// <summary>Prepares the slot for the next request (the caller holds <see cref="Lock"/>); returns the request's id.</summary>
        public long Arm(Link link, uint uid, byte functionId, byte sequence, TimeSpan timeout)
        {
            _core.Reset();
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
