using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Sends a discovery request (data "?" of type "Discovery") to the default networks or -Network and lists the
/// sessions that answer with a Discovery Response within -WaitSec.
/// </summary>
[Cmdlet(VerbsCommon.Find, "WebifiDevice", HelpUri = HelpLinks.CmdletPages + "Find-WebifiDevice.md")]
[OutputType(typeof(WebifiDevice))]
public sealed class FindWebifiDeviceCommand : SessionCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[]? Network { get; set; }

    [Parameter]
    [ValidateRange(0.1, 600)]
    public double WaitSec { get; set; } = 2;

    protected override void EndProcessing()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        WriteVerbose($"Discovery request to {(Network is null ? "the default networks" : string.Join(", ", Network))}; collecting answers for {WaitSec} s.");
        var progress = new ProgressRecord(3, "Find-WebifiDevice", $"Collecting Discovery Responses for {WaitSec} s") { SecondsRemaining = (int)Math.Ceiling(WaitSec) };
        WriteProgress(progress);
        try
        {
            var devices = Await(token => session.DiscoverAsync(Network, TimeSpan.FromSeconds(WaitSec), token));
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
