using System.Text;
using System.Text.Json;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// What a Webifi session writes to a recording (docs/recording-format.md "Webifi"): logins as their outcome only (the
/// connect password, and the device id that authenticates the WebSocket, never: docs/design/decisions.md §27.1),
/// networks, sends with the relay's answer, received messages, background errors and broken links; the state changes
/// come from the base.
/// </summary>
public sealed partial class WebifiSession
{
    /// <summary>The first login happened before the recording started: a replay needs its connect name and networks.</summary>
    private protected override void RecordStartingPoint()
    {
        if (SessionId >= 0) RecordLoginAccepted(SessionId);
        RecordNetworks(Networks, WebifiErrorCode.NetworksSet);
    }

    private void RecordLoginAccepted(int sessionId)
    {
        if (Recording is null) return;
        Record("login", new RecordField("connectName", ConnectName), new RecordField("outcome", "accepted"), new RecordField("sessionId", sessionId));
    }

    /// <summary>A refused login is a <c>login</c> with the relay's code; a relay that could not be reached is an <c>error</c>.</summary>
    private void RecordLoginFailure(DeviceException failure)
    {
        if (Recording is null) return;
        if (failure.Kind == DeviceErrorKind.Authentication)
            Record("login", new RecordField("connectName", ConnectName), new RecordField("outcome", "refused"), new RecordField("code", WebifiErrorCode.InvalidCredentials));
        else
            Record("error", new RecordField("errorId", failure.ErrorId), new RecordField("message", failure.Message));
    }

    private void RecordNetworks(IReadOnlyList<string> networks, int code)
    {
        if (Recording is null) return;
        Record("networks", RecordField.Json("networks", JsonArray(networks)), new RecordField("code", code));
    }

    /// <summary>Written when the relay answered the send (or it failed), stamped when it was queued.</summary>
    private static void RecordWhenSettled(DeviceRecorder recorder, PendingSend pending)
    {
        double queued = recorder.Now;
        pending.Acknowledged.Task.ContinueWith(done =>
        {
            var message = pending.Message;
            var fields = new List<RecordField>
            {
                RecordField.Json("to", JsonText(json =>
                {
                    json.WriteStartArray();
                    foreach (int id in message.ToSessionIds) json.WriteNumberValue(id);
                    json.WriteEndArray();
                })),
                RecordField.Json("network", JsonArray(message.ToNetworks)),
                new("dataType", message.DataType),
                DataField(message.Data),
                new("ms", recorder.Now - queued),
                pending.RelayCode is int code ? new RecordField("code", code) : new RecordField("code", (string?)null),
            };
            if (done.Exception?.InnerException is DeviceException failure) fields.Add(ErrorField(failure));
            recorder.WriteAt(queued, "send", fields.ToArray());
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void RecordReceived(int from, string dataType, byte[] data, WebifiMessageId? id)
    {
        if (Recording is null) return;
        var sender = new RecordField("from", from);
        if (id is { } messageId)
            Record("receive", sender, new RecordField("dataType", dataType), DataField(data), new RecordField("messageId", messageId.ToString()));
        else
            Record("receive", sender, new RecordField("dataType", dataType), DataField(data));
    }

    private void RecordBackgroundError(int code, string context)
    {
        if (Recording is null) return;
        var error = ErrorFor(code, context);
        Record("error", new RecordField("errorId", error.ErrorId), new RecordField("message", error.Message), new RecordField("code", code), new RecordField("context", context));
    }

    /// <summary>The link to the relay broke (relay gone, session forgotten, a transport switch): why, as the session saw it.</summary>
    private void RecordDrop(Exception reason)
    {
        if (Recording is null) return;
        var failure = reason as DeviceException;
        Record("drop", new RecordField("errorId", failure?.ErrorId ?? "WebifiConnectionLost"), new RecordField("message", reason.Message));
    }

    /// <summary>A payload as <c>data</c> when it is UTF-8 text (how DeviceShell sends strings), else as <c>hex</c>.</summary>
    private static RecordField DataField(byte[] data) =>
        System.Text.Unicode.Utf8.IsValid(data) ? new RecordField("data", Encoding.UTF8.GetString(data)) : new RecordField("hex", data);

    private static RecordField ErrorField(DeviceException failure) => RecordField.Json("error", JsonText(json =>
    {
        json.WriteStartObject();
        json.WriteString("errorId", failure.ErrorId);
        json.WriteString("message", failure.Message);
        json.WriteEndObject();
    }));

    private static string JsonArray(IReadOnlyList<string> items) => JsonText(json =>
    {
        json.WriteStartArray();
        foreach (string item in items) json.WriteStringValue(item);
        json.WriteEndArray();
    });

    private static string JsonText(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer)) write(json);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
