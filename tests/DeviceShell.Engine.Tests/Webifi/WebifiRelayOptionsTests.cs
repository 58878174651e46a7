using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Webifi;
using DeviceShell.Lab.Hosting;
using DeviceShell.Lab.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

/// <summary>The relay's Lab settings: <c>--webifi-accounts FILE</c> and the limits.</summary>
public sealed class WebifiRelayOptionsTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"webifi-accounts-{Guid.NewGuid():N}.json");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task An_accounts_file_replaces_the_default_account()
    {
        await File.WriteAllTextAsync(_file, """[{"connectName":"alice","connectPassword":"s3cret","networks":["home","garage"]}]""");
        var options = WebifiRelayOptions.From(LabSimulatorOptions.Loopback(settings: new Dictionary<string, string> { ["accounts"] = _file, ["session-timeout"] = "60" }));
        Assert.Equal(TimeSpan.FromSeconds(60), options.SessionTimeout);
        await using var relay = await WebifiFixture.StartAsync(options);

        var refused = await Assert.ThrowsAsync<DeviceException>(() => WebifiSession.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket)).Within());
        Assert.Equal("WebifiAuthenticationFailed", refused.ErrorId);

        var alice = await relay.ConnectAsync(relay.ClientOptions(WebifiTransport.WebSocket, "home", "net1") with { ConnectName = "alice", ConnectPassword = WebifiFixture.Secure("s3cret") });
        Assert.Equal(WebifiErrorCode.NotAllNetworksSet, alice.LastError?.Code);
        await alice.SendTextAsync("hi", toSessionIds: new[] { alice.SessionId });
        Assert.Equal("hi", Assert.Single(await alice.ReceiveAsync(1)).Data);
    }

    [Theory]
    [InlineData("accounts", "{not json")]
    [InlineData("max-message-bytes", "-1")]
    [InlineData("redis", "localhost")]
    [InlineData("redis", "127.0.0.1:99999")]
    public void Bad_settings_are_argument_errors_the_lab_host_reports(string setting, string value)
    {
        File.WriteAllText(_file, value);
        var settings = new Dictionary<string, string> { [setting] = setting == "accounts" ? _file : value };
        Assert.Throws<ArgumentException>(() => WebifiRelayOptions.From(LabSimulatorOptions.Loopback(settings: settings)));
    }

    [Fact]
    public async Task A_relay_whose_redis_cannot_be_reached_fails_to_start_and_says_where()
    {
        using var unused = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        unused.Start();
        string endpoint = "127.0.0.1:" + ((System.Net.IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        var options = WebifiRelayOptions.From(LabSimulatorOptions.Loopback(settings: new Dictionary<string, string> { ["redis"] = endpoint }));
        await using var relay = new WebifiRelay(options);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => relay.StartAsync(LabSimulatorOptions.Loopback(), CancellationToken.None).Within(TestTimeouts.Long));
        Assert.Contains(endpoint, error.Message);
    }
}
