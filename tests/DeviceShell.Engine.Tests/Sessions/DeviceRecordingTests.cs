using System.Text.Json;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;
using DeviceShell.Engine.Tests.PiLink;
using DeviceShell.Lab.PiLink;

namespace DeviceShell.Engine.Tests.Sessions;

/// <summary>Recording a live Pi link session on loopback and reading it back (docs/recording-format.md), and replaying it.</summary>
public sealed class DeviceRecordingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("deviceshell-recording-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static PiLinkServer StartEchoServer()
    {
        var server = new PiLinkServer(0, PiLinkFixture.Fast) { Responder = text => "re:" + text };
        server.Start();
        return server;
    }

    [Fact]
    public async Task A_recording_holds_every_message_both_ways_in_order_after_its_header()
    {
        await using var server = StartEchoServer();
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        string path = Path.Combine(_folder, "echo.devrec");
        client.StartRecording(path, overwrite: false);
        for (int i = 0; i < 200; i++)
            Assert.Equal($"re:{i}", (await client.SendAndReceiveReplyAsync(i.ToString(System.Globalization.CultureInfo.InvariantCulture), TestTimeouts.Short)).Text);
        var recorder = await client.StopRecordingAsync().Within();

        var recording = DeviceRecording.Load(path);
        Assert.True(recording.IsComplete);
        Assert.Equal(DeviceWorld.PiLink, recording.World);
        Assert.Equal(client.Endpoint, recording.Endpoint);
        Assert.Equal(400, recording.Records.Count);
        Assert.Equal(400, recorder.Records);
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal(("send", $"{i}"), KindAndText(recording.Records[2 * i]));
            Assert.Equal(("receive", $"re:{i}"), KindAndText(recording.Records[2 * i + 1]));
        }
        var times = recording.Records.Select(r => r.GetProperty("t").GetDouble()).ToList();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Closing_the_session_completes_its_recording_with_the_closed_state_last()
    {
        await using var server = StartEchoServer();
        var client = await PiLinkFixture.ConnectToAsync(server.Port);
        string path = Path.Combine(_folder, "closed.devrec");
        client.StartRecording(path, overwrite: false);
        await client.SendAsync("bye");
        await client.DisposeAsync().AsTask().Within();

        var recording = DeviceRecording.Load(path);
        Assert.True(recording.IsComplete);
        Assert.Null(client.Recording);
        var last = recording.Records[^1];
        Assert.Equal(("state", "Closed"), (last.GetProperty("kind").GetString(), last.GetProperty("state").GetString()));
        Assert.Contains(recording.Records, r => r.GetProperty("kind").GetString() == "close");
    }

    [Fact]
    public async Task A_recording_is_refused_over_an_existing_file_and_twice_at_once()
    {
        await using var server = StartEchoServer();
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        string path = Path.Combine(_folder, "exists.devrec");
        await File.WriteAllTextAsync(path, "mine");
        Assert.Equal("DeviceRecordingFileExists", Assert.Throws<DeviceException>(() => client.StartRecording(path, overwrite: false)).ErrorId);
        Assert.Equal("mine", await File.ReadAllTextAsync(path));
        client.StartRecording(path, overwrite: true);
        Assert.Equal("DeviceRecordingInProgress", Assert.Throws<DeviceException>(() => client.StartRecording(path, overwrite: true)).ErrorId);
        await client.StopRecordingAsync().Within();
        Assert.Equal("DeviceRecordingNotStarted", (await Assert.ThrowsAsync<DeviceException>(() => client.StopRecordingAsync())).ErrorId);
    }

    [FactWithDevFull]
    public async Task A_full_disk_ends_the_recording_with_DeviceRecordingFailed_and_the_session_goes_on()
    {
        await using var server = StartEchoServer();
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);
        client.StartRecording("/dev/full", overwrite: true);
        Assert.Equal("re:x", (await client.SendAndReceiveReplyAsync("x", TestTimeouts.Short)).Text);
        var failure = await Assert.ThrowsAsync<DeviceException>(() => client.StopRecordingAsync().Within());
        Assert.Equal(("DeviceRecordingFailed", DeviceErrorKind.ResourceUnavailable), (failure.ErrorId, failure.Kind));
        Assert.Equal("re:y", (await client.SendAndReceiveReplyAsync("y", TestTimeouts.Short)).Text);
    }

    [Theory]
    [InlineData("", "line 1: an empty file")]
    [InlineData("{\"format\":\"other\"}", "line 1: not a DeviceShell recording")]
    [InlineData("{\"format\":\"devrec\",\"version\":2,\"world\":\"PiLink\",\"started\":\"2026-12-07T07:00:00Z\"}", "line 1: a recording of another format version")]
    [InlineData("{\"format\":\"devrec\",\"version\":1,\"world\":\"Moon\",\"started\":\"2026-12-07T07:00:00Z\"}", "line 1: an unknown world 'Moon'")]
    [InlineData(Header + "\n{\"t\":1,\"kind\":\"send\"}\nnot json", "line 3: not JSON")]
    [InlineData(Header + "\n{\"kind\":\"send\"}", "line 2: a record without its time")]
    public async Task Reading_names_the_line_that_is_not_a_recording(string content, string expected)
    {
        string path = Path.Combine(_folder, "bad.devrec");
        await File.WriteAllTextAsync(path, content);
        var failure = Assert.Throws<DeviceException>(() => DeviceRecording.Load(path));
        Assert.Equal(("DeviceRecordingInvalid", DeviceErrorKind.InvalidArgument), (failure.ErrorId, failure.Kind));
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }

    private const string Header = "{\"format\":\"devrec\",\"version\":1,\"world\":\"PiLink\",\"endpoint\":\"x:1\",\"started\":\"2026-12-07T07:00:00Z\"}";

    [Fact]
    public async Task A_replay_answers_in_recorded_order_then_cycles_and_reports_what_it_did_not_have()
    {
        string path = Path.Combine(_folder, "cycle.devrec");
        await File.WriteAllLinesAsync(path, new[]
        {
            Header,
            "{\"t\":1,\"kind\":\"send\",\"text\":\"go\"}", "{\"t\":2,\"kind\":\"receive\",\"text\":\"A\"}",
            "{\"t\":3,\"kind\":\"send\",\"text\":\"go\"}", "{\"t\":4,\"kind\":\"receive\",\"text\":\"B\"}",
            "{\"t\":5,\"kind\":\"send\",\"text\":\"temp\"}", "{\"t\":6,\"kind\":\"receive\",\"text\":\"21.5\"}", "{\"t\":6.5,\"kind\":\"receive\",\"text\":\"C\"}",
            "{\"t\":9,\"kind\":\"end\",\"records\":7}",
        });
        var replay = PiLinkReplay.Load(path, speed: 1);
        await using var server = new PiLinkServer(0, PiLinkFixture.Fast) { Responder = text => replay.Answer(text, _ => "simulated") };
        replay.Attach(server);
        server.Start();
        await using var client = await PiLinkFixture.ConnectToAsync(server.Port);

        async Task<string> Ask(string text) => (await client.SendAndReceiveReplyAsync(text, TestTimeouts.Short)).Text;
        Assert.Equal("A", await Ask("go"));
        Assert.Equal("B", await Ask("go"));
        Assert.Equal("simulated", await Ask("hello"));
        Assert.Equal("21.5", await Ask("temp"));
        Assert.Equal("C", (await client.NextAsync()).Text);
        Assert.Equal("A", await Ask("go")); // asked more often than recorded: the series again

        var report = replay.Report();
        Assert.Equal((3, 3, 4), (report.Recorded, report.Replayed, report.Answered));
        Assert.Equal("hello", report.Uncovered[0].Request);
        Assert.Empty(report.Divergences);
    }

    private static (string, string) KindAndText(JsonElement record) => (record.GetProperty("kind").GetString()!, record.GetProperty("text").GetString()!);
}

/// <summary>A test that writes to /dev/full (Linux), where every write fails with ENOSPC as on a full disk.</summary>
internal sealed class FactWithDevFullAttribute : FactAttribute
{
    public FactWithDevFullAttribute()
    {
        if (!File.Exists("/dev/full")) Skip = "needs /dev/full (Linux), a file every write to fails with ENOSPC";
    }
}
