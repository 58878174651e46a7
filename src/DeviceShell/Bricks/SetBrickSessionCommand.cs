using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Changes a Brick session while it runs: auto-reconnect on or off, and the request timeout.</summary>
[Cmdlet(VerbsCommon.Set, "BrickSession", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-BrickSession.md")]
[OutputType(typeof(BrickSession))]
public sealed class SetBrickSessionCommand : SessionCmdlet
{
    private bool _autoReconnectGiven;
    private SwitchParameter _autoReconnect;

    /// <summary>-AutoReconnect turns it on, -AutoReconnect:$false off; absent leaves it as it is.</summary>
    [Parameter]
    public SwitchParameter AutoReconnect
    {
        get => _autoReconnect;
        set
        {
            _autoReconnect = value;
            _autoReconnectGiven = true;
        }
    }

    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        var session = ResolveSession<BrickSession>("Brick", "Connect-Brick");
        var changes = new List<string>();
        if (_autoReconnectGiven) changes.Add($"auto-reconnect {(AutoReconnect ? "on" : "off")}");
        if (TimeoutSec is double seconds) changes.Add($"timeout {seconds} s");
        if (changes.Count > 0 && ShouldProcess(session.ToString(), "Set " + string.Join(", ", changes)))
        {
            if (_autoReconnectGiven) session.AutoReconnect = AutoReconnect;
            if (TimeoutSec is double timeout) session.Timeout = TimeSpan.FromSeconds(timeout);
        }
        if (PassThru) WriteObject(session);
    }
}
