using System.Text.Json.Nodes;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// What a Brick session writes to its recording (docs/recording-format.md "Bricks"): each request with its answer as a
/// <c>call</c>, callbacks and enumerate callbacks as <c>receive</c>, an authentication as its outcome only, and the
/// link's connects and disconnects with their reasons, so that a replay can tell a dropped link from the user's own
/// disconnect.
/// </summary>
public sealed partial class BrickSession
{
    private protected override bool CanRecord => true;

    /// <summary>
    /// The authentication handshake is never recorded as calls: the nonces and the digest would let anyone holding the
    /// file test guesses of the secret offline. <see cref="RecordAuthentication"/> writes its outcome instead.
    /// </summary>
    private static bool IsAuthentication(uint uid, byte functionId) =>
        uid == BrickUid.Daemon && functionId is TfpFunction.GetAuthenticationNonce or TfpFunction.Authenticate;

    /// <summary>A request that expects a response, written as one <c>call</c> with its answer when a recording runs.</summary>
    private Task<TfpPacket> RequestOnLinkAsync(Link link, uint uid, byte functionId, byte[] payload, TimeSpan timeout, CancellationToken cancellationToken, int deviceIdentifier = 0)
    {
        var recorder = Recording;
        if (recorder is null || IsAuthentication(uid, functionId))
            return ExchangeOnLinkAsync(link, uid, functionId, payload, timeout, cancellationToken, deviceIdentifier);
        return RecordedExchangeAsync(recorder, link, uid, functionId, payload, timeout, deviceIdentifier, cancellationToken);
    }

    private async Task<TfpPacket> RecordedExchangeAsync(DeviceRecorder recorder, Link link, uint uid, byte functionId, byte[] payload, TimeSpan timeout, int deviceIdentifier, CancellationToken cancellationToken)
    {
        double start = recorder.Now;
        try
        {
            var response = await ExchangeOnLinkAsync(link, uid, functionId, payload, timeout, cancellationToken, deviceIdentifier).ConfigureAwait(false);
            recorder.WriteAt(start, "call", new RecordField("uid", BrickUid.Encode(uid)), new RecordField("function", functionId), new RecordField("request", payload),
                new RecordField("ms", recorder.Now - start), new RecordField("response", response.Payload), new RecordField("errorCode", response.ErrorCode));
            return response;
        }
        catch (Exception ex) when (ex is DeviceException or OperationCanceledException)
        {
            string errorId = ex is DeviceException device ? device.ErrorId : "OperationStopped";
            recorder.WriteAt(start, "call", new RecordField("uid", BrickUid.Encode(uid)), new RecordField("function", functionId), new RecordField("request", payload),
                new RecordField("ms", recorder.Now - start), ErrorField(errorId, ex.Message));
            throw;
        }
    }

    /// <summary>A request sent without waiting for a response (enumerate, a setter with response expected off): its <c>call</c> has a null response.</summary>
    private void RecordUnansweredRequest(double start, uint uid, byte functionId, byte[] payload)
    {
        if (Recording is DeviceRecorder recorder)
            recorder.WriteAt(start, "call", new RecordField("uid", BrickUid.Encode(uid)), new RecordField("function", functionId), new RecordField("request", payload),
                new RecordField("ms", recorder.Now - start), new RecordField("response", (string?)null));
    }

    /// <summary>A callback or an enumerate callback, as it arrived.</summary>
    private void RecordReceived(TfpPacket packet)
    {
        if (Recording is not null)
            Record("receive", new RecordField("uid", BrickUid.Encode(packet.Uid)), new RecordField("function", packet.FunctionId), new RecordField("payload", packet.Payload));
    }

    /// <summary>An authentication's outcome, and why it was refused; never the secret, the nonces or the digest.</summary>
    private void RecordAuthentication(DeviceException? refusal)
    {
        if (Recording is null) return;
        if (refusal is null) Record("authenticate", new RecordField("outcome", "authenticated"));
        else Record("authenticate", new RecordField("outcome", "refused"), ErrorField(refusal.ErrorId, refusal.Message));
    }

    private void RecordConnect(BrickConnectReason reason)
    {
        if (Recording is not null) Record("connect", new RecordField("reason", reason.ToString()));
    }

    private void RecordDisconnect(BrickDisconnectReason reason)
    {
        if (Recording is not null) Record("disconnect", new RecordField("reason", reason.ToString()));
    }

    private static RecordField ErrorField(string errorId, string message) =>
        RecordField.Json("error", new JsonObject { ["errorId"] = errorId, ["message"] = message }.ToJsonString());
}
