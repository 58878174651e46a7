using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Connecting: a session's link is opened (every address of the host in turn, within the connect timeout), authenticated
/// with the HMAC handshake when a secret is set, and adopted as the session's connection; a disconnected session connects
/// again on request (docs/design/decisions.md §20).
/// </summary>
public sealed partial class BrickSession
{
    /// <summary>
    /// Connects this session again after it was disconnected (DisconnectAsync, or a lost link with auto-reconnect off),
    /// as the bindings' connect() does on an IP Connection, and re-authenticates with the secret it keeps.
    /// </summary>
    /// <exception cref="DeviceException">
    /// BrickAlreadyConnected (ResourceExists) when the session is connected or connecting (auto-reconnect included), as
    /// the bindings raise ALREADY_CONNECTED; SessionClosed once it is closed; else what <see cref="ConnectAsync(BrickConnectOptions, CancellationToken)"/> throws.
    /// </exception>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        bool wasUserDisconnected = _userDisconnected;
        lock (_gate)
        {
            if (State == DeviceSessionState.Closed)
                throw new DeviceException(DeviceErrorKind.InvalidOperation, "SessionClosed", $"{this} is closed; connect a new session.", this);
            if (_link is not null || _connecting || State is DeviceSessionState.Reconnecting or DeviceSessionState.Connecting)
                throw BrickErrors.Create(DeviceErrorKind.ResourceExists, "BrickAlreadyConnected",
                    $"The Brick session to {Endpoint} is already {(_link is not null ? "connected" : "connecting")}; nothing was done.", this);
            _connecting = true;
            _userDisconnected = false;
        }
        try
        {
            SetState(DeviceSessionState.Connecting);
            Adopt(await OpenAuthenticatedLinkAsync(cancellationToken).ConfigureAwait(false), BrickConnectReason.Request);
        }
        catch
        {
            _userDisconnected = wasUserDisconnected;
            if (State == DeviceSessionState.Connecting) SetState(DeviceSessionState.Disconnected);
            throw;
        }
        finally
        {
            lock (_gate) { _connecting = false; }
        }
    }

    private Link CurrentLink()
    {
        lock (_gate)
        {
            if (_link is not null) return _link;
        }
        string why = State == DeviceSessionState.Reconnecting ? "it is reconnecting" : "it is disconnected";
        throw BrickErrors.Create(DeviceErrorKind.Connection, "NotConnected", $"The Brick session to {Endpoint} cannot send: {why}.", Endpoint);
    }

    private async Task<Link> OpenAuthenticatedLinkAsync(CancellationToken cancellationToken)
    {
        var link = await OpenLinkAsync(cancellationToken).ConfigureAwait(false);
        if (_secret is null) return link;
        try
        {
            await AuthenticateLinkAsync(link, _secret, cancellationToken).ConfigureAwait(false);
            return link;
        }
        catch
        {
            Drop(link, BrickDisconnectReason.Request, "authentication failed");
            throw;
        }
    }

    private async Task<Link> OpenLinkAsync(CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await BlockingSocket.ResolveAsync(_options.HostName, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw BrickErrors.Create(DeviceErrorKind.Connection, "HostNotFound", $"The host name '{_options.HostName}' could not be resolved: {ex.Message}", _options.HostName, ex);
        }
        Exception? last = null;
        foreach (var address in addresses)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            attempt.CancelAfter(_options.ConnectTimeout);
            try
            {
                var socket = await BlockingSocket.ConnectAsync(address, _options.Port, attempt.Token).ConfigureAwait(false);
                var link = new Link(this, socket);
                link.Start();
                return link;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = BrickErrors.Create(DeviceErrorKind.Timeout, "ConnectTimeout",
                    $"Connecting to {address}:{_options.Port} took longer than {_options.ConnectTimeout.TotalSeconds:0.###} s.", Endpoint);
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }
        if (last is DeviceException timeout) throw timeout;
        throw BrickErrors.Create(DeviceErrorKind.Connection, "ConnectionFailed",
            $"Could not connect to the Brick Daemon at {Endpoint}: {last?.Message ?? "no address"}.", Endpoint, last);
    }

    private async Task AuthenticateLinkAsync(Link link, string secret, CancellationToken cancellationToken)
    {
        try
        {
            var nonceResponse = await RequestOnLinkAsync(link, BrickUid.Daemon, TfpFunction.GetAuthenticationNonce, Array.Empty<byte>(), Timeout, cancellationToken).ConfigureAwait(false);
            CheckResponse(nonceResponse, 4);
            uint clientNonce = Interlocked.Increment(ref _clientNonce);
            var payload = new byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(payload, clientNonce);
            ComputeDigest(secret, nonceResponse.Payload, payload.AsSpan(0, 4)).CopyTo(payload, 4);
            var done = await RequestOnLinkAsync(link, BrickUid.Daemon, TfpFunction.Authenticate, payload, Timeout, cancellationToken).ConfigureAwait(false);
            CheckResponse(done, 0);
            RecordAuthentication(null);
        }
        catch (DeviceException ex) when (ex.ErrorId is "ConnectionLost")
        {
            var refused = BrickErrors.Create(DeviceErrorKind.Authentication, "AuthenticationFailed",
                $"The Brick Daemon at {Endpoint} closed the connection during authentication: the secret is wrong, or authentication is disabled on the daemon.", Endpoint, ex);
            RecordAuthentication(refused);
            throw refused;
        }
        catch (DeviceException ex)
        {
            RecordAuthentication(ex);
            throw;
        }
    }

    /// <summary>HMAC-SHA1 keyed with the ASCII secret over server nonce then client nonce (docs/design/bricks-tfp.md §4).</summary>
    public static byte[] ComputeDigest(string secret, ReadOnlySpan<byte> serverNonce, ReadOnlySpan<byte> clientNonce)
    {
        Span<byte> message = stackalloc byte[8];
        serverNonce[..4].CopyTo(message);
        clientNonce[..4].CopyTo(message[4..]);
        return HMACSHA1.HashData(Encoding.ASCII.GetBytes(secret), message);
    }

    /// <summary>Makes a fresh link the session's connection and announces it.</summary>
    private void Adopt(Link link, BrickConnectReason reason)
    {
        lock (_gate)
        {
            if (_userDisconnected || State == DeviceSessionState.Closed)
            {
                link.Close();
                return;
            }
            _link = link;
        }
        RecordConnect(reason);
        SetState(DeviceSessionState.Connected);
        _events.Post(new BrickEvent(this, BrickEventKind.Connected, null, 0, Array.Empty<byte>(), null, reason.ToString()));
        if (link.IsDead) AfterLoss(link); // the reader gave up before the link was adopted
    }
}
