using System.Management.Automation;
using System.Security;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Connects to a Brick Daemon, authenticates when -Secret is given, and registers the session as the Brick default.
/// Without -Secret it checks with one request that the peer speaks TFP and warns when it does not. With -Session it
/// connects that session again after it was disconnected, as the bindings' connect() does (BrickAlreadyConnected when
/// it is connected or connecting).
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Brick", HelpUri = HelpLinks.CmdletPages + "Connect-Brick.md")]
[OutputType(typeof(BrickSession))]
public sealed class ConnectBrickCommand : SessionCmdlet
{
    [Parameter(Position = 0)]
    [Alias("ComputerName", "IPAddress")]
    [ValidateNotNullOrEmpty]
    public string HostName { get; set; } = "localhost";

    [Parameter(Position = 1)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 4223;

    /// <summary>The daemon's authentication secret (ASCII). Kept in memory to re-authenticate after every auto-reconnect.</summary>
    [Parameter]
    public SecureString? Secret { get; set; }

    /// <summary>How long each request waits for its response (default 2.5 s).</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter NoAutoReconnect { get; set; }

    /// <summary>Sessions given by -Session (or the pipeline) were connected again: no new session is made.</summary>
    private bool _reconnected;

    /// <summary>With -Session (inherited), connects that Brick session again; it keeps its settings and secret.</summary>
    protected override void ProcessRecord()
    {
        if (Session is null) return;
        _reconnected = true;
        var session = ResolveSession<BrickSession>("Brick", "Connect-Brick");
        string[] newSessionParameters = [nameof(HostName), nameof(Port), nameof(Secret), nameof(TimeoutSec), nameof(NoAutoReconnect)];
        if (newSessionParameters.FirstOrDefault(MyInvocation.BoundParameters.ContainsKey) is string extra)
            ThrowFailure(new DeviceException(DeviceErrorKind.InvalidArgument, "SessionWithConnectParameters",
                $"-{extra} is for a new session; -Session connects a session again with the settings it has."), session);
        WriteVerbose($"Connecting {session} again.");
        if (TryRun(() => Await(token => session.ConnectAsync(token)), session)) WriteObject(session);
    }

    protected override void EndProcessing()
    {
        if (_reconnected) return;
        var options = new BrickConnectOptions
        {
            HostName = HostName,
            Port = Port,
            Secret = Secret is null ? null : new System.Net.NetworkCredential(string.Empty, Secret).Password,
            Timeout = TimeSpan.FromSeconds(TimeoutSec ?? 2.5),
            AutoReconnect = !NoAutoReconnect,
        };
        WriteVerbose($"Connecting to the Brick Daemon at {HostName}:{Port}{(Secret is null ? "" : " and authenticating")}.");
        // An unreachable host can take the whole connect timeout.
        var progress = new ProgressRecord(3, "Connect-Brick", $"Connecting to {HostName}:{Port}");
        WriteProgress(progress);
        try
        {
            var session = Await(token => BrickSession.ConnectAsync(options, token));
            SessionRegistry.Shared.Add(session);
            WriteVerbose($"Connected: {session}.");
            // Authentication already proved a Brick Daemon; otherwise any TCP server would pass as one without a word.
            if (Secret is null && Await(token => session.CheckPeerSpeaksTfpAsync(token)) is string notTfp)
                WriteWarning($"The peer may not be a Brick Daemon: {notTfp}. Requests and enumerations will find no devices.");
            WriteObject(session);
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, $"{HostName}:{Port}");
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }
}
