using System.Text.Json.Nodes;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.Demo;

/// <summary>
/// A short walk through one world with the engine against its simulator, for `build.sh demo`
/// (`dotnet DeviceShell.Lab.dll --demo`). Found by reflection, like the simulators.
/// </summary>
public interface ILabDemo
{
    /// <summary>The simulator this demo talks to (its [LabSimulator] name).</summary>
    string Simulator { get; }

    Task RunAsync(LabDemoContext context, CancellationToken cancellationToken);
}

/// <summary>What a demo gets: its simulator's endpoint, a way to change the simulator, and where to write.</summary>
public sealed class LabDemoContext
{
    private readonly LabHost _host;
    private int _lastId;

    internal LabDemoContext(LabHost host, string simulator, TextWriter output)
    {
        _host = host;
        Simulator = simulator;
        Endpoint = host.Endpoints[simulator];
        Output = output;
    }

    public string Simulator { get; }

    public LabSimulatorEndpoint Endpoint { get; }

    public TextWriter Output { get; }

    public void Say(string line) => Output.WriteLine("   " + line);

    /// <summary>Sends a control command to the simulator, as Add-LabBrickDevice or Set-PiButtonState would.</summary>
    public async Task<JsonNode?> ControlAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["id"] = Interlocked.Increment(ref _lastId), ["simulator"] = Simulator, ["command"] = command, ["args"] = arguments ?? new JsonObject() };
        var answer = JsonNode.Parse(await _host.ControlAsync(request.ToJsonString(), cancellationToken).ConfigureAwait(false))!;
        if (answer["ok"]?.GetValue<bool>() != true) throw new InvalidOperationException(answer["error"]?.GetValue<string>());
        return answer["result"];
    }
}
