using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Changes a running session: the listen-to networks (sent to the relay at once; error 5 when some are not the
/// account's), whether it answers discovery, its discovery name, and the long-polling hold time (from the next login on).
/// </summary>
[Cmdlet(VerbsCommon.Set, "WebifiSession", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-WebifiSession.md")]
[OutputType(typeof(WebifiSession))]
public sealed class SetWebifiSessionCommand : SessionCmdlet
{
    private SwitchParameter _discoverable;
    private bool _discoverableGiven;

    [Parameter]
    [ValidateNotNull]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[]? Network { get; set; }

    /// <summary>-Discoverable to answer discovery requests, -Discoverable:$false to pass them on as data.</summary>
    [Parameter]
    public SwitchParameter Discoverable
    {
        get => _discoverable;
        set
        {
            _discoverable = value;
            _discoverableGiven = true;
        }
    }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateRange(10, 1800)]
    public double? DownloadTimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        if (!ShouldProcess(session.ToString(), "Change Webifi session settings")) return;
        if (_discoverableGiven) session.SetDiscoverable(Discoverable);
        if (Name is not null) session.SetName(Name);
        if (DownloadTimeoutSec is double seconds) session.SetDownloadTimeout(TimeSpan.FromSeconds(seconds));
        if (Network is not null)
        {
            WriteVerbose($"Setting listen-to networks: {string.Join(", ", Network)}.");
            try
            {
                Await(token => session.SetNetworksAsync(Network, token));
            }
            catch (Exception ex) when (ErrorRecords.IsExpected(ex))
            {
                WriteFailure(ex, Network);
            }
        }
        if (PassThru) WriteObject(session);
    }
}
