namespace DeviceShell.Lab.Demo;

/// <summary>
/// A short walk through one world with the engine against its simulator, for `build.sh demo`
/// (`dotnet DeviceShell.Lab.dll --demo`). Found by reflection, like the simulators.
/// </summary>
public interface ILabDemo
{
    /// <summary>The simulator this demo talks to (its [LabSimulator] name).</summary>
    string Simulator { get; }

    Task RunAsync(Hosting.LabSimulatorEndpoint endpoint, TextWriter output, CancellationToken cancellationToken);
}
