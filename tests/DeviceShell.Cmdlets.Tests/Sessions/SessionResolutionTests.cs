using System.Management.Automation;
using System.Net;
using System.Net.Sockets;

namespace DeviceShell.Cmdlets.Tests.Sessions;

/// <summary>
/// The shared -Session rule and the Receive-* drain, through Receive-PiLinkMessage on Pi link servers fed by a raw
/// TCP client (NUL-terminated messages); -MessageOnly is the drain's filter, skipping the state changes.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class SessionResolutionTests(ModuleRunspace shell) : IClassFixture<ModuleRunspace>, IDisposable
{
    private readonly List<(PSObject Server, TcpClient Client)> _servers = new();

    /// <summary>A new Pi link server (now the world's newest session) with a raw client connected to it.</summary>
    private (PSObject Server, TcpClient Client) StartServer()
    {
        var server = shell.Single("Start-PiLinkServer -Port 0");
        var client = new TcpClient();
        _servers.Add((server, client));
        client.Connect(IPAddress.Loopback, (int)server.Get("Port")!);
        return (server, client);
    }

    private static void Post(TcpClient client, params string[] messages)
    {
        foreach (string message in messages) client.GetStream().Write(System.Text.Encoding.UTF8.GetBytes(message + "\0"));
    }

    private PowerShellRun Receive(string arguments, params (string Name, object? Value)[] parameters) =>
        shell.Run("Receive-PiLinkMessage -MessageOnly " + arguments, parameters);

    public void Dispose()
    {
        foreach (var (server, client) in _servers)
        {
            client.Dispose();
            shell.Run("$Server | Stop-PiLinkServer", ("Server", server)).AssertNoErrors();
        }
    }

    [Fact]
    public void Without_any_session_the_command_stops_with_SessionNotFound()
    {
        Assert.Empty(shell.Run("Get-DeviceSession -World PiLink").Objects);
        var run = Receive("-TimeoutSec 0");
        PowerShellAssert.Error("SessionNotFound", ErrorCategory.ObjectNotFound, run.TerminatingError);
    }

    [Fact]
    public void The_newest_session_is_the_default_and_Session_takes_an_id()
    {
        var older = StartServer();
        var newer = StartServer();
        Post(older.Client, "from older");
        Post(newer.Client, "from newer");

        Assert.Equal(new object[] { "from newer" }, Receive("-Count 1 -TimeoutSec 5").Values("Text"));
        Assert.Equal(new object[] { "from older" }, Receive("-Session $Id -Count 1 -TimeoutSec 5", ("Id", older.Server.Get("Id")!.ToString())).Values("Text"));
    }

    [Fact]
    public void A_session_of_another_world_is_refused()
    {
        var (server, _) = StartServer();
        var run = shell.Run("Receive-BrickCallback -Session $Server -TimeoutSec 0", ("Server", server));
        PowerShellAssert.Error("WrongSessionWorld", ErrorCategory.InvalidArgument, run.TerminatingError);
    }

    [Fact]
    public void Sessions_bind_from_the_pipeline()
    {
        var (server, client) = StartServer();
        Post(client, "piped");
        var run = shell.Run("$Server | Receive-PiLinkMessage -MessageOnly -Count 1 -TimeoutSec 5", ("Server", server));
        Assert.Equal(new object[] { "piped" }, run.Values("Text"));
    }

    [Fact]
    public void Drain_honours_count_filter_and_timeout()
    {
        var (server, client) = StartServer();
        Post(client, "a", "b", "c");
        var two = Receive("-Session $Server -Count 2 -TimeoutSec 5", ("Server", server));
        Assert.Equal(new object[] { "a", "b" }, two.Values("Text"));

        var rest = Receive("-Session $Server -Count 5 -TimeoutSec 0.5 -Verbose", ("Server", server));
        Assert.Equal(new object[] { "c" }, rest.Values("Text"));
        Assert.Contains(rest.Verbose, v => v.Contains("1 of 5", StringComparison.Ordinal));
    }

    [Fact]
    public void Items_posted_while_waiting_arrive_and_Ctrl_C_ends_the_wait()
    {
        var (server, client) = StartServer();
        using var late = new Timer(_ => Post(client, "late"), null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // The stop comes 2 s after the post, not 0.5 s: on a loaded CI machine the post's timer, the loopback hop and the
        // output took longer than 0.5 s. Stopping must still end the wait promptly.
        var run = shell.RunAndStop(TimeSpan.FromSeconds(2), "Receive-PiLinkMessage -MessageOnly -Session $Server", ("Server", server));
        Assert.True(run.Stopped);
        Assert.Equal(new object[] { "late" }, run.Values("Text"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(6), $"stopping took {watch.ElapsedMilliseconds - 2000} ms after the stop");
    }

    [Fact]
    public void SourceIdentifier_with_IncludeQueued_forwards_queued_items_to_the_PowerShell_event_queue()
    {
        var (server, client) = StartServer();
        Post(client, "event");
        var run = Receive("-Session $Server -Count 1 -TimeoutSec 5 -SourceIdentifier Test.Items -IncludeQueued", ("Server", server));
        run.AssertNoErrors();
        Assert.Empty(run.Objects);
        var queued = shell.Single("Wait-Event -SourceIdentifier Test.Items -Timeout 5; Remove-Event -SourceIdentifier Test.Items");
        Assert.Equal(server.Get("Id"), PSObject.AsPSObject(queued.Get("Sender")!).Get("Id"));
        Assert.Equal("event", PSObject.AsPSObject(queued.Get("SourceEventArgs")!).Get("Text"));
    }
}
