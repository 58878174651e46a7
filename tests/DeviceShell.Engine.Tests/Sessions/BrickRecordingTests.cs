using System.Text;
using System.Text.Json;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;
using DeviceShell.Engine.Tests.Bricks;
using DeviceShell.Lab.Bricks;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Engine.Tests.Sessions;

/// <summary>Recording a live Brick session on loopback (docs/recording-format.md "Bricks") and replaying it from the simulated daemon.</summary>
public sealed class BrickRecordingTests : IDisposable
{
    private const string Secret = "Rec0rd-Me-N0t";
    private static readonly uint Thermometer = BrickUid.Parse("4ER");
    private readonly string _folder = Directory.CreateTempSubdirectory("deviceshell-brick-recording-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static List<JsonElement> Kind(DeviceRecording recording, string kind) =>
        recording.Records.Where(r => r.GetProperty("kind").GetString() == kind).ToList();

    private static string Text(JsonElement record, string name) => record.GetProperty(name).ValueKind == JsonValueKind.Null ? "null" : record.GetProperty(name).ToString();

    [Fact]
    public async Task A_recording_holds_calls_with_their_answers_callbacks_and_the_authentication_outcome_but_no_secret()
    {
        await using var bed = await BrickFixture.StartAsync(Secret);
        var session = await bed.ConnectAsync(bed.Options(Secret));
        string path = Path.Combine(_folder, "live.devrec");
        session.StartRecording(path, overwrite: false);

        var identity = await session.GetIdentityAsync(Thermometer).Within();
        var devices = await session.EnumerateAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)).Within(TestTimeouts.Long);
        await session.InvokeAsync(Thermometer, "SetTemperatureCallbackConfiguration", new Dictionary<string, object?> { ["Period"] = 10u, ["ValueHasToChange"] = false, ["Option"] = "Off", ["Min"] = 0, ["Max"] = 0 }, true).Within();
        var callback = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
        Assert.Equal("FunctionNotSupported", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(Thermometer, 77, new byte[] { 7 }))).ErrorId);
        Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(BrickUid.Parse("zzz"), 1, Array.Empty<byte>(), null, TimeSpan.FromMilliseconds(200)))).ErrorId);
        // A connect during the recording authenticates again: only its outcome may be written.
        await session.DisconnectAsync();
        await session.ConnectAsync(CancellationToken.None).Within();
        await session.StopRecordingAsync().Within();

        string file = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain(Secret, file, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.ASCII.GetBytes(Secret)), file, StringComparison.OrdinalIgnoreCase);
        var recording = DeviceRecording.Load(path);
        Assert.Equal(DeviceWorld.Brick, recording.World);
        Assert.True(recording.IsComplete);
        var calls = Kind(recording, "call");
        Assert.DoesNotContain(calls, c => Text(c, "uid") == "2" && Text(c, "function") is "1" or "2"); // no nonce, no digest
        var identityCall = calls.Single(c => Text(c, "uid") == "4ER" && Text(c, "function") == "255");
        Assert.Equal(("", Convert.ToHexString(identity.ToPayload(null)).ToLowerInvariant(), "0"), (Text(identityCall, "request"), Text(identityCall, "response"), Text(identityCall, "errorCode")));
        Assert.True(identityCall.GetProperty("ms").GetDouble() >= 0);
        Assert.Equal("null", Text(calls.Single(c => Text(c, "uid") == "1" && Text(c, "function") == "254"), "response")); // enumerate: no response of its own
        Assert.Equal(("07", "2"), calls.Where(c => Text(c, "function") == "77").Select(c => (Text(c, "request"), Text(c, "errorCode"))).Single());
        Assert.Equal("RequestTimeout", calls.Single(c => Text(c, "uid") == "zzz").GetProperty("error").GetProperty("errorId").GetString());
        var received = Kind(recording, "receive");
        Assert.Equal(devices.Select(d => d.Uid).Order(), received.Where(r => Text(r, "function") == "253").Select(r => BrickDevice.FromPayload(Convert.FromHexString(Text(r, "payload"))).Uid).Distinct().Order());
        Assert.Contains(received, r => Text(r, "uid") == "4ER" && Text(r, "function") == callback.FunctionId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new[] { "authenticated" }, Kind(recording, "authenticate").Select(a => Text(a, "outcome")));
        Assert.Equal(new[] { "Request" }, Kind(recording, "disconnect").Select(d => Text(d, "reason")));
        Assert.Equal(new[] { "Request" }, Kind(recording, "connect").Select(d => Text(d, "reason")));
    }

    [Fact]
    public async Task A_refused_authentication_is_recorded_as_its_outcome_without_the_secret_tried()
    {
        const string Wrong = "Guessed-Wr0ng";
        await using var bed = await BrickFixture.StartAsync(Secret);
        var session = await bed.ConnectAsync(bed.Options(Secret));
        string path = Path.Combine(_folder, "refused.devrec");
        session.StartRecording(path, overwrite: false);
        Assert.Equal("AuthenticationFailed", (await Assert.ThrowsAsync<DeviceException>(() => session.AuthenticateAsync(Wrong))).ErrorId);
        await session.StopRecordingAsync().Within();

        string file = await File.ReadAllTextAsync(path);
        Assert.DoesNotContain(Wrong, file, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.ASCII.GetBytes(Wrong)), file, StringComparison.OrdinalIgnoreCase);
        // The daemon dropped the link on the wrong digest; auto-reconnect may authenticate again with the kept secret.
        var refused = Kind(DeviceRecording.Load(path), "authenticate")[0];
        Assert.Equal(("refused", "AuthenticationFailed"), (Text(refused, "outcome"), refused.GetProperty("error").GetProperty("errorId").GetString()));
        Assert.Empty(Kind(DeviceRecording.Load(path), "call"));
    }

    [Fact]
    public async Task A_daemon_that_goes_away_is_recorded_as_a_disconnect_then_the_reconnect()
    {
        await using var bed = await BrickFixture.StartAsync();
        var session = await bed.ConnectAsync();
        string path = Path.Combine(_folder, "restart.devrec");
        session.StartRecording(path, overwrite: false);
        await bed.RestartAsync();
        await Eventually.True(() => session.Reconnects == 1 && session.ConnectionState == BrickConnectionState.Connected, what: "the reconnect");
        await session.StopRecordingAsync().Within();

        var recording = DeviceRecording.Load(path);
        var events = recording.Records.Select(r => r.GetProperty("kind").GetString() switch
        {
            "disconnect" or "connect" => $"{r.GetProperty("kind").GetString()}:{Text(r, "reason")}",
            "state" => Text(r, "state"),
            _ => null,
        }).Where(e => e is not null);
        Assert.Equal(new[] { "disconnect:Shutdown", "Reconnecting", "connect:AutoReconnect", "Connected" }, events);
    }

    private const string Header = "{\"format\":\"devrec\",\"version\":1,\"world\":\"Brick\",\"endpoint\":\"brickd:4223\",\"started\":\"2026-12-07T07:00:00Z\"}";

    /// <summary>The enumerate callback of the recorded thermometer: a Temperature Bricklet 2.0 at 6qY/a.</summary>
    private static string ThermometerAvailable() =>
        Convert.ToHexString(new BrickDevice("4ER", "6qY", 'a', new Version(1, 0, 0), new Version(2, 0, 0), TemperatureV2Bricklet.Identifier, null).ToPayload(BrickEnumerationType.Available)).ToLowerInvariant();

    private async Task<(BrickDaemonSimulator Daemon, BrickSession Session)> ReplayAsync(string[] records, string? secret = null)
    {
        string path = Path.Combine(_folder, "replay.devrec");
        await File.WriteAllLinesAsync(path, new[] { Header }.Concat(records));
        var daemon = new BrickDaemonSimulator();
        var endpoint = await daemon.StartAsync(LabSimulatorOptions.Loopback(0, new Dictionary<string, string> { ["replay"] = path, ["replay-speed"] = "1" }), CancellationToken.None).Within();
        var session = await BrickSession.ConnectAsync(new BrickConnectOptions
        {
            HostName = "127.0.0.1", Port = endpoint.Port, Secret = secret, Timeout = TimeSpan.FromSeconds(2), ReconnectInterval = TimeSpan.FromMilliseconds(50),
        }).Within();
        return (daemon, session);
    }

    [Fact]
    public async Task A_replay_answers_in_recorded_order_then_cycles_enumerates_the_recorded_devices_and_reports_what_it_did_not_have()
    {
        var (daemon, session) = await ReplayAsync(new[]
        {
            "{\"t\":1,\"kind\":\"call\",\"uid\":\"1\",\"function\":254,\"request\":\"\",\"ms\":0.2,\"response\":null}",
            $"{{\"t\":2,\"kind\":\"receive\",\"uid\":\"4ER\",\"function\":253,\"payload\":\"{ThermometerAvailable()}\"}}",
            "{\"t\":10,\"kind\":\"call\",\"uid\":\"4ER\",\"function\":1,\"request\":\"\",\"ms\":1.5,\"response\":\"d204\",\"errorCode\":0}",
            "{\"t\":20,\"kind\":\"call\",\"uid\":\"4ER\",\"function\":1,\"request\":\"\",\"ms\":1.5,\"response\":\"3a09\",\"errorCode\":0}",
            "{\"t\":30,\"kind\":\"call\",\"uid\":\"4ER\",\"function\":77,\"request\":\"07\",\"ms\":1,\"response\":\"\",\"errorCode\":2}",
            "{\"t\":40,\"kind\":\"end\",\"records\":5}",
        }, secret: "any secret will do");
        await using (daemon)
        await using (session)
        {
            var devices = await session.EnumerateAsync(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)).Within(TestTimeouts.Long);
            Assert.Equal(new[] { ("4ER", TemperatureV2Bricklet.Identifier) }, devices.Select(d => (d.Uid, d.DeviceIdentifier)));
            Assert.Equal("d204", Convert.ToHexString(await session.CallAsync(Thermometer, 1, Array.Empty<byte>()).Within()).ToLowerInvariant());
            Assert.Equal("3a09", Convert.ToHexString(await session.CallAsync(Thermometer, 1, Array.Empty<byte>()).Within()).ToLowerInvariant());
            Assert.Equal("FunctionNotSupported", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(Thermometer, 77, new byte[] { 7 }))).ErrorId);
            // Asked more often than recorded: the series again.
            Assert.Equal("d204", Convert.ToHexString(await session.CallAsync(Thermometer, 1, Array.Empty<byte>()).Within()).ToLowerInvariant());
            // Not recorded: the simulated stack, built of the recorded devices, answers.
            Assert.Equal(TemperatureV2Bricklet.Identifier, (await session.GetIdentityAsync(Thermometer).Within()).DeviceIdentifier);
            Assert.Equal("RequestTimeout", (await Assert.ThrowsAsync<DeviceException>(() => session.CallAsync(BrickUid.Parse("6qY"), 255, Array.Empty<byte>(), null, TimeSpan.FromMilliseconds(200)))).ErrorId);

            var report = (await DeviceShell.Engine.Lab.LabCommandTable.For(daemon, "brick").RunAsync(new DeviceShell.Engine.Lab.ReplayReportCommand()))!;
            Assert.Equal((DeviceWorld.Brick, 4, 4, 5), (report.World, report.Recorded, report.Replayed, report.Answered));
            Assert.Equal(new[] { ("4ER 255 ", 1), ("6qY 255 ", 1) }, report.Uncovered.Select(u => (u.Request, u.Count)).Order());
            Assert.Empty(report.Divergences);
        }
    }

    [Fact]
    public async Task A_replay_sends_recorded_callbacks_after_their_request_and_drops_the_link_where_it_dropped()
    {
        var (daemon, session) = await ReplayAsync(new[]
        {
            "{\"t\":10,\"kind\":\"call\",\"uid\":\"4ER\",\"function\":2,\"request\":\"0a000000000000000000\",\"ms\":1,\"response\":\"\",\"errorCode\":0}",
            "{\"t\":60,\"kind\":\"receive\",\"uid\":\"4ER\",\"function\":4,\"payload\":\"d204\"}",
            "{\"t\":70,\"kind\":\"receive\",\"uid\":\"4ER\",\"function\":4,\"payload\":\"3a09\"}",
            "{\"t\":200,\"kind\":\"disconnect\",\"reason\":\"Shutdown\"}",
            "{\"t\":200.1,\"kind\":\"state\",\"state\":\"Reconnecting\"}",
            "{\"t\":700,\"kind\":\"connect\",\"reason\":\"AutoReconnect\"}",
            "{\"t\":700.1,\"kind\":\"state\",\"state\":\"Connected\"}",
        });
        await using (daemon)
        await using (session)
        {
            var states = new List<DeviceSessionState>();
            session.StateChanged += (_, e) => { lock (states) states.Add(e.Current); };
            await session.CallAsync(Thermometer, 2, Convert.FromHexString("0a000000000000000000")).Within();
            var first = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
            var second = await BrickFixture.NextEvent(session, e => e.Kind == BrickEventKind.Callback);
            Assert.Equal(("d204", "3a09"), (Convert.ToHexString(first.Payload).ToLowerInvariant(), Convert.ToHexString(second.Payload).ToLowerInvariant()));
            await Eventually.True(() => session.Reconnects == 1 && session.ConnectionState == BrickConnectionState.Connected, what: "the replayed drop and the daemon's return");
            // StateChanged is raised off the reader through the session's queue, so the event may follow the state.
            await Eventually.True(() => { lock (states) return states.Count >= 2; }, what: "the two state changes");
            lock (states) Assert.Equal(new[] { DeviceSessionState.Reconnecting, DeviceSessionState.Connected }, states);
        }
    }
}
