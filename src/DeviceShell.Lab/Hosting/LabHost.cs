using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Lab;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Hosting;

/// <summary>Starts a set of simulators and knows their endpoints; used by the command line and by tests.</summary>
public sealed class LabHost : IAsyncDisposable
{
    private readonly List<(string Name, ILabSimulator Simulator, LabSimulatorEndpoint Endpoint, LabCommandTable Commands)> _running = new();

    /// <summary>Every simulator in this assembly, by option name.</summary>
    public static IReadOnlyDictionary<string, (Type Type, string Description)> Available { get; } =
        typeof(LabHost).Assembly.GetTypes()
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<LabSimulatorAttribute>()))
            .Where(x => x.Attribute is not null && typeof(ILabSimulator).IsAssignableFrom(x.Type))
            .ToDictionary(x => x.Attribute!.Name, x => (x.Type, x.Attribute!.Description), StringComparer.OrdinalIgnoreCase);

    public IReadOnlyDictionary<string, LabSimulatorEndpoint> Endpoints =>
        _running.ToDictionary(r => r.Name, r => r.Endpoint);

    /// <summary>Starts one simulator after another; on failure stops those already started. A taken port is a <see cref="LabPortInUseException"/>.</summary>
    public static async Task<LabHost> StartAsync(IEnumerable<(string Name, LabSimulatorOptions Options)> simulators, CancellationToken cancellationToken)
    {
        var host = new LabHost();
        try
        {
            foreach (var (name, options) in simulators)
            {
                if (!Available.TryGetValue(name, out var entry))
                    throw new ArgumentException($"There is no simulator named '{name}'. Available: {string.Join(", ", Available.Keys.Order())}.");
                var simulator = (ILabSimulator)Activator.CreateInstance(entry.Type)!;
                LabSimulatorEndpoint endpoint;
                try
                {
                    endpoint = await simulator.StartAsync(options, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    await simulator.DisposeAsync().ConfigureAwait(false);
                    if (LabPortInUseException.IsPortInUse(ex)) throw new LabPortInUseException(name, options.Address, options.Port, ex);
                    throw;
                }
                string key = name.ToLowerInvariant();
                host._running.Add((key, simulator, endpoint, LabCommandTable.For(simulator, key)));
            }
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The one line the host prints when ready.</summary>
    public string EndpointLine()
    {
        var root = new JsonObject();
        foreach (var (name, _, endpoint, _) in _running)
        {
            var node = new JsonObject { ["host"] = endpoint.Host, ["port"] = endpoint.Port };
            if (endpoint.CaCertificate is not null) node["caCertificate"] = endpoint.CaCertificate;
            root[name] = node;
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>
    /// Answers one control line through the simulator's <see cref="LabCommandTable"/> (docs/design/decisions.md §22.2).
    /// Never throws: every failure becomes an {"ok":false} answer so a bad command cannot take the lab down.
    /// </summary>
    public async Task<string> ControlAsync(string line, CancellationToken cancellationToken)
    {
        JsonNode? id = null;
        try
        {
            var request = JsonNode.Parse(line)?.AsObject() ?? throw new ArgumentException("A control line must be a JSON object.");
            id = request["id"]?.DeepClone();
            string simulator = request["simulator"]?.GetValue<string>() ?? throw new ArgumentException("The control line names no simulator.");
            string command = request["command"]?.GetValue<string>() ?? throw new ArgumentException("The control line names no command.");
            var arguments = request["args"] as JsonObject ?? new JsonObject();
            var commands = _running.Find(r => r.Name.Equals(simulator, StringComparison.OrdinalIgnoreCase)).Commands
                ?? throw new ArgumentException($"The simulator '{simulator}' is not running in this lab.");
            if (commands.Names.Count == 0)
                throw new ArgumentException($"The simulator '{simulator}' takes no commands.");
            var result = await commands.DispatchAsync(command, arguments, cancellationToken).ConfigureAwait(false);
            return new JsonObject { ["id"] = id, ["ok"] = true, ["result"] = result }.ToJsonString();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or JsonException or FormatException or KeyNotFoundException)
        {
            return new JsonObject { ["id"] = id, ["ok"] = false, ["error"] = ex.Message }.ToJsonString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            try
            {
                await _running[i].Simulator.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
            {
                // Stopping is best effort: one simulator's shutdown error must not keep the others running.
            }
        }
        _running.Clear();
    }

    internal static ILoggerFactory CreateStderrLoggerFactory(LogLevel level) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(level)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
