using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Sends a discovery request (data "?" of type "Discovery") to the default networks or -Network and lists the
/// sessions that answer with a Discovery Response within -TimeoutSec, which bounds the whole command: a relay that
/// does not acknowledge the request in that time is a timeout error.
/// </summary>
[Cmdlet(VerbsCommon.Find, "WebifiDevice", HelpUri = HelpLinks.CmdletPages + "Find-WebifiDevice.md")]
[OutputType(typeof(WebifiDevice))]
public sealed class FindWebifiDeviceCommand : SessionCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[]? Network { get; set; }

    /// <summary>How long the command runs in all (the request's acknowledgement, then the answers); -WaitSec and -WaitReplySec are older names.</summary>
    [Parameter]
    [Alias("WaitSec", "WaitReplySec")]
    [ValidateRange(0.1, 600)]
    public double? TimeoutSec { get; set; }

    protected override void EndProcessing()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        double timeoutSec = TimeoutSec ?? 2;
        WriteVerbose($"Discovery request to {(Network is null ? "the default networks" : string.Join(", ", Network))}; collecting answers for {timeoutSec} s.");
        var progress = new ProgressRecord(3, "Find-WebifiDevice", $"Collecting Discovery Responses for {timeoutSec} s") { SecondsRemaining = (int)Math.Ceiling(timeoutSec) };
        WriteProgress(progress);
        try
        {
            var devices = Await(token => session.DiscoverAsync(Network, TimeSpan.FromSeconds(timeoutSec), token));
            foreach (var device in devices) WriteObject(device);
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, session);
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
    }
}
