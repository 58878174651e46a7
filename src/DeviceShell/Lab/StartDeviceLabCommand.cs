using System.Globalization;
using System.Management.Automation;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>
/// Starts the Lab host (the simulators) from the module's Lab/ folder as a child process and returns
/// its endpoints. Each switch, or the simulator's port parameter, adds one simulator; ports default to 0 (a free port).
/// One port parameter per simulator (rather than one -Port array) keeps -Port a single int across the module.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "DeviceLab", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Start-DeviceLab.md")]
[OutputType(typeof(DeviceLab))]
public sealed class StartDeviceLabCommand : DeviceCmdlet
{
    [Parameter] public SwitchParameter Brick { get; set; }

    [Parameter] public SwitchParameter Gateway { get; set; }

    [Parameter] public SwitchParameter Webifi { get; set; }

    [Parameter] public SwitchParameter PiButton { get; set; }

    /// <summary>A built-in TCP echo server: the reference peer for benchmarks and quick checks.</summary>
    [Parameter] public SwitchParameter Echo { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? BrickPort { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? GatewayPort { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? WebifiPort { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? PiButtonPort { get; set; }

    [Parameter]
    [ValidateRange(0, 65535)]
    public int? EchoPort { get; set; }

    /// <summary>The Brick Daemon simulator asks clients to authenticate with this secret.</summary>
    [Parameter]
    public System.Security.SecureString? BrickSecret { get; set; }

    /// <summary>
    /// More simulator settings, passed as <c>--NAME VALUE</c>: e.g. @{ 'gateway-devices' = 1000; 'webifi-accounts' = './accounts.json' }.
    /// A value naming an existing file relative to the current location is passed as its full path, because the Lab runs in its own folder.
    /// </summary>
    [Parameter]
    public System.Collections.Hashtable? Setting { get; set; }

    /// <summary>
    /// Recordings (Start-DeviceRecording) to serve: each starts its world's simulator answering as recorded
    /// (docs/recording-format.md); Get-LabReplayReport says what the recording did not cover.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Replay { get; set; }

    /// <summary>The pace of replayed traffic: 2 twice as fast as recorded, 0.5 half (default 1).</summary>
    [Parameter]
    [ValidateRange(0.01, 1000)]
    public double Speed { get; set; } = 1;

    /// <summary>How long to wait for every simulator to listen (default 30 s); StartTimeoutSec is its old name.</summary>
    [Parameter]
    [Alias("StartTimeoutSec")]
    [ValidateRange(1, 600)]
    public double? TimeoutSec { get; set; }

    /// <summary>
    /// The full path of an existing file that <paramref name="value"/> names, else null. Most settings are not paths, and
    /// PowerShell reads a value such as '13:Xth:0:0' (a Brick stack) as a path on a drive '13' that does not exist.
    /// </summary>
    private string? LocalFile(string value)
    {
        if (value.Length == 0) return null;
        try
        {
            string local = GetUnresolvedProviderPathFromPSPath(value);
            return File.Exists(local) ? local : null;
        }
        catch (Exception ex) when (ex is SessionStateException or NotSupportedException)
        {
            return null;
        }
    }

    protected override void EndProcessing()
    {
        var chosen = new List<(string Name, int Port)>();
        void Choose(string name, bool asked, int? port)
        {
            if (asked || port is not null) chosen.Add((name, port ?? 0));
        }
        Choose("brick", Brick, BrickPort);
        Choose("gateway", Gateway, GatewayPort);
        Choose("webifi", Webifi, WebifiPort);
        Choose("pibutton", PiButton, PiButtonPort);
        Choose("echo", Echo, EchoPort);
        IReadOnlyList<(string Simulator, IReadOnlyList<string> Arguments)> replays;
        try
        {
            replays = LabReplay.ArgumentsFor((Replay ?? Array.Empty<string>()).Select(GetUnresolvedProviderPathFromPSPath), Speed);
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, Replay);
            return;
        }
        foreach (var (simulator, _) in replays)
        {
            if (!chosen.Any(c => c.Name == simulator)) chosen.Add((simulator, 0));
        }
        if (chosen.Count == 0) chosen.AddRange(new[] { ("brick", 0), ("gateway", 0), ("webifi", 0), ("pibutton", 0) });

        var arguments = new List<string>();
        foreach (var (name, port) in chosen)
        {
            arguments.Add("--" + name);
            arguments.Add(port.ToString(CultureInfo.InvariantCulture));
        }
        foreach (var (_, replayArguments) in replays) arguments.AddRange(replayArguments);
        // The secret goes through the child's environment: a command line is visible to every local user.
        var secrets = new Dictionary<string, string>();
        if (BrickSecret is not null) secrets["brick-secret"] = new System.Net.NetworkCredential(string.Empty, BrickSecret).Password;
        foreach (System.Collections.DictionaryEntry entry in Setting ?? new System.Collections.Hashtable())
        {
            string value = Convert.ToString(entry.Value is PSObject wrapped ? wrapped.BaseObject : entry.Value, CultureInfo.InvariantCulture) ?? "";
            arguments.Add("--" + Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!.TrimStart('-'));
            arguments.Add(LocalFile(value) ?? value);
        }
        string simulators = string.Join(", ", chosen.Select(c => c.Name));
        if (!ShouldProcess(simulators, "Start simulators")) return;

        string labAssembly = Path.Combine(Path.GetDirectoryName(typeof(StartDeviceLabCommand).Assembly.Location)!, "Lab", "DeviceShell.Lab.dll");
        WriteVerbose($"Starting the lab ({simulators}) from {labAssembly}.");
        var progress = new ProgressRecord(1, "Start-DeviceLab", "Waiting for the simulators to listen");
        WriteProgress(progress);
        try
        {
            var lab = Await(token => DeviceLab.StartAsync(labAssembly, arguments, TimeSpan.FromSeconds(TimeoutSec ?? 30), secrets, token));
            WriteObject(lab);
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, labAssembly);
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }
}
