using System.Management.Automation;

namespace DeviceShell.Cmdlets.Tests;

/// <summary>A Lab host process started with Start-DeviceLab in a test's runspace; disposing stops it with Stop-DeviceLab.</summary>
public sealed class RunningLab : IDisposable
{
    private readonly ModuleRunspace _shell;

    public RunningLab(ModuleRunspace shell, string arguments, params (string Name, object? Value)[] parameters)
    {
        _shell = shell;
        // A bound for a loaded machine (a Lab took 30 s to start at load 55); a Lab that starts is not kept waiting.
        Lab = shell.Single($"Start-DeviceLab -TimeoutSec {StartTimeoutSec} " + arguments, parameters);
        PowerShellAssert.HasType("DeviceShell.Engine.Lab.DeviceLab", Lab);
    }

    public const int StartTimeoutSec = 90;

    /// <summary>The DeviceLab object that Start-DeviceLab returned.</summary>
    public PSObject Lab { get; }

    /// <summary>Where one simulator of the lab listens (Host, Port, CaCertificate).</summary>
    public PSObject Endpoint(string simulator) => _shell.Single("$Lab[$Simulator]", ("Lab", Lab), ("Simulator", simulator));

    public int Port(string simulator) => (int)Endpoint(simulator).Get("Port")!;

    public void Dispose() => _shell.Run("Stop-DeviceLab -Lab $Lab", ("Lab", Lab)).AssertNoErrors();
}
