using System.Management.Automation;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Commands;

/// <summary>SearchDevice: asks the gateway to look for devices on its subnet for -TimeoutSec seconds.</summary>
[Cmdlet(VerbsCommon.Find, "GatewayDevice", HelpUri = HelpLinks.CmdletPages + "Find-GatewayDevice.md")]
[OutputType(typeof(GatewaySearchResult))]
public sealed class FindGatewayDeviceCommand : GatewayCmdlet
{
    /// <summary>How long the gateway searches; 5 s (the tutorial's value) when not given.</summary>
    [Parameter]
    [ValidateRange(0, 60)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveGateway();
        var searchTime = TimeSpan.FromSeconds(TimeoutSec ?? 5);
        WriteVerbose($"SearchDevice(timeout = {searchTime.TotalMilliseconds:0} ms) on {session.Endpoint}.");
        var search = session.SearchAsync(searchTime, StopToken);
        var progress = new ProgressRecord(1, "Find-GatewayDevice", "Searching the gateway's subnet");
        var started = DateTime.UtcNow;
        bool showProgress = searchTime > TimeSpan.FromSeconds(1);
        while (showProgress && !search.IsCompleted)
        {
            // Waits without observing the task: its failure (or Ctrl+C) surfaces through Call below.
            Task.WhenAny(search, Task.Delay(250)).GetAwaiter().GetResult();
            var left = searchTime - (DateTime.UtcNow - started);
            progress.SecondsRemaining = Math.Max(0, (int)left.TotalSeconds);
            progress.PercentComplete = Math.Clamp((int)(100 * (DateTime.UtcNow - started) / searchTime), 0, 100);
            WriteProgress(progress);
        }
        if (showProgress)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        foreach (var device in Call(_ => search)) WriteObject(device);
    }
}
