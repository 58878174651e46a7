using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using DeviceShell.Engine.Bricks;
using DeviceShell.Lab.Hosting;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Bricks;

/// <summary>
/// One client connection of the simulated Brick Daemon.
/// </summary>
public sealed partial class BrickDaemonSimulator
{
    /// <summary>One TCP client: a receive loop that validates and runs requests, and a send queue drained by a writer task.</summary>
    private sealed class Client
    {
        // brickd keeps up to 32768 outgoing packets per client and then drops the oldest.
        private readonly Channel<byte[]> _outgoing = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(32768) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        private readonly BrickDaemonSimulator _daemon;
        private readonly Socket _socket;
        private readonly CancellationTokenSource _closed = new();
        private int _closing;

        public Client(BrickDaemonSimulator daemon, Socket socket, AuthState auth)
        {
            _daemon = daemon;
            _socket = socket;
            Auth = auth;
            RemoteAddress = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            if (auth != AuthState.Disabled) ServerNonce = Interlocked.Increment(ref daemon._nextNonce);
        }

        /// <summary>Where the client connects from: secret guesses are slowed down per address.</summary>
        public IPAddress RemoteAddress { get; }

        public AuthState Auth { get; set; }

        /// <summary>Fixed for the connection's lifetime (asking again returns the same nonce).</summary>
        public uint ServerNonce { get; }

        public bool MayReceiveDeviceTraffic => Auth is AuthState.Disabled or AuthState.AnySecret or AuthState.Done;

        public void Start(CancellationToken stop)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _closed.Token);
            var receive = Task.Run(() => ReceiveLoopAsync(linked.Token), CancellationToken.None);
            var send = Task.Run(() => SendLoopAsync(linked.Token), CancellationToken.None);
            // The linked source is registered on the simulator's stop token: disposing it once both loops are done keeps
            // a long-running simulator from holding one registration per client it ever served.
            _ = Task.WhenAll(receive, send).ContinueWith(_ => linked.Dispose(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        public void Send(byte[] packet) => _outgoing.Writer.TryWrite(packet);

        public void Close(string why)
        {
            if (Interlocked.Exchange(ref _closing, 1) != 0) return;
            _daemon._log.LogDebug("Closing client: {Why}", why);
            _daemon.Forget(this);
            _outgoing.Writer.TryComplete();
            _closed.Cancel();
            _socket.Dispose();
            DescriptorBudget.Return();
        }

        private async Task ReceiveLoopAsync(CancellationToken stop)
        {
            var framer = new TfpFramer();
            string why = "client closed the connection";
            try
            {
                while (true)
                {
                    int read = await _socket.ReceiveAsync(framer.FreeSpace, SocketFlags.None, stop).ConfigureAwait(false);
                    if (read == 0) break;
                    framer.Advance(read);
                    while (framer.TryTake(out var request))
                    {
                        if (request.FunctionId == 0 || request.Sequence == 0)
                        {
                            why = $"invalid request ({request}): function ID and sequence number must not be 0";
                            _daemon._log.LogWarning("Closing a client: {Why}", why);
                            Close(why);
                            return;
                        }
                        if (request.Uid == BrickUid.Daemon && request.FunctionId == TfpFunction.Authenticate && Auth == AuthState.NonceSent)
                        {
                            // An address that guessed wrong too often waits its turn (or is turned away) before the digest is checked.
                            if (_daemon._guesses.TurnDelay(RemoteAddress) is not TimeSpan wait)
                            {
                                Close("too many wrong secrets from this address; turned away for now");
                                return;
                            }
                            if (wait > TimeSpan.Zero) await Task.Delay(wait, stop).ConfigureAwait(false);
                        }
                        _daemon.Handle(this, request);
                    }
                }
            }
            catch (InvalidDataException ex)
            {
                why = ex.Message;
                _daemon._log.LogWarning("Closing a client: {Why}", why);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                why = ex.Message;
            }
            Close(why);
        }

        private async Task SendLoopAsync(CancellationToken stop)
        {
            try
            {
                await foreach (byte[] packet in _outgoing.Reader.ReadAllAsync(stop).ConfigureAwait(false))
                {
                    int sent = 0;
                    while (sent < packet.Length)
                        sent += await _socket.SendAsync(packet.AsMemory(sent), SocketFlags.None, stop).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                Close("send failed: " + ex.Message);
            }
        }
    }
}
