using System.Globalization;
using System.Management.Automation;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>
/// Starts the Lab host (the simulators) from the module's Lab/ folder as a child process and returns
/// its endpoints. Each switch adds one simulator; -Port gives their ports in the same order (0 = free port).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "DeviceLab", SupportsShouldProcess = true)]
[OutputType(typeof(DeviceLab))]
public sealed class StartDeviceLabCommand : DeviceCmdlet
{
    [Parameter] public SwitchParameter Brick { get; set; }

    [Parameter] public SwitchParameter Gateway { get; set; }

    [Parameter] public SwitchParameter Webifi { get; set; }

    [Parameter] public SwitchParameter PiButton { get; set; }

    /// <summary>A built-in TCP echo server: the reference peer for benchmarks and quick checks.</summary>
    [Parameter] public SwitchParameter Echo { get; set; }

    /// <summary>Ports for the chosen simulators, in the order Brick, Gateway, Webifi, PiButton, Echo; missing ones are 0 (free port).</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int[]? Port { get; set; }

    /// <summary>The Brick Daemon simulator asks clients to authenticate with this secret.</summary>
    [Parameter]
    public System.Security.SecureString? BrickSecret { get; set; }

    [Parameter]
    [ValidateRange(1, 600)]
    public double StartTimeoutSec { get; set; } = 30;

    protected override void EndProcessing()
    {
        var chosen = new List<string>();
        if (Brick) chosen.Add("brick");
        if (Gateway) chosen.Add("gateway");
        if (Webifi) chosen.Add("webifi");
        if (PiButton) chosen.Add("pibutton");
        if (Echo) chosen.Add("echo");
        if (chosen.Count == 0) chosen.AddRange(new[] { "brick", "gateway", "webifi", "pibutton" });

        var arguments = new List<string>();
        for (int i = 0; i < chosen.Count; i++)
        {
            arguments.Add("--" + chosen[i]);
            arguments.Add((Port is not null && i < Port.Length ? Port[i] : 0).ToString(CultureInfo.InvariantCulture));
            if (chosen[i] == "brick" && BrickSecret is not null)
            {
                arguments.Add("--brick-secret");
                arguments.Add(new System.Net.NetworkCredential(string.Empty, BrickSecret).Password);
            }
        }
        if (!ShouldProcess(string.Join(", ", chosen), "Start simulators")) return;

        string labAssembly = Path.Combine(Path.GetDirectoryName(typeof(StartDeviceLabCommand).Assembly.Location)!, "Lab", "DeviceShell.Lab.dll");
        WriteVerbose($"Starting the lab ({string.Join(", ", chosen)}) from {labAssembly}.");
        var progress = new ProgressRecord(1, "Start-DeviceLab", "Waiting for the simulators to listen");
        WriteProgress(progress);
        try
        {
            var lab = Await(token => DeviceLab.StartAsync(labAssembly, arguments, TimeSpan.FromSeconds(StartTimeoutSec), token));
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
