using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeviceShell.Engine.Lab;

/// <summary>
/// A simulator that can be changed while it runs (plug a bricklet, add a gateway device, press a button): it lists
/// its handlers of the typed commands (LabCommands.cs) in a <see cref="LabCommandTable"/>. A handler throws
/// <see cref="ArgumentException"/> or <see cref="InvalidOperationException"/> with a clear message when it cannot.
/// </summary>
internal interface ILabControllable
{
    void AddCommands(LabCommandTable commands);
}

/// <summary>A simulator that can serve a recording answers <c>replay-report</c> with what its replay saw (null without one).</summary>
internal interface IReplayReporter
{
    LabReplayReport? ReplayReport();
}

/// <summary>
/// The one dispatcher of the Lab control channel (docs/design/decisions.md §22.2): one simulator's typed handlers,
/// reached by a command's wire name with JSON arguments (the Lab host's control lines) or by the command record itself
/// (tests that drive a simulator in their own process). Arguments that do not fit the command's record, and a name the
/// simulator does not know, are an <see cref="ArgumentException"/>, which the Lab host answers as a refused command.
/// It lives beside the commands rather than in the Lab so that tests, which see the engine's internals, drive a
/// simulator through it too.
/// </summary>
internal sealed class LabCommandTable
{
    private readonly string _simulator;
    private readonly List<string> _names = new();
    private readonly Dictionary<string, Func<JsonObject, CancellationToken, Task<JsonNode?>>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, Func<object, CancellationToken, Task<object?>>> _byType = new();

    private LabCommandTable(string simulator) => _simulator = simulator;

    /// <summary>The commands of <paramref name="simulator"/> (named <paramref name="name"/> in messages): those it registers, and replay-report when it can replay.</summary>
    public static LabCommandTable For(object simulator, string name)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        var table = new LabCommandTable(name);
        if (simulator is ILabControllable controllable) controllable.AddCommands(table);
        if (simulator is IReplayReporter reporter) table.On((ReplayReportCommand _) => reporter.ReplayReport());
        return table;
    }

    /// <summary>The wire names, in the order the simulator registered them.</summary>
    public IReadOnlyList<string> Names => _names;

    public LabCommandTable On<TCommand, TResult>(Func<TCommand, CancellationToken, Task<TResult>> handler) where TCommand : ILabCommand<TResult>
    {
        string name = TCommand.CommandName;
        _names.Add(name);
        _byName.Add(name, async (arguments, cancellationToken) =>
            JsonSerializer.SerializeToNode(await handler(Arguments<TCommand>(name, arguments), cancellationToken).ConfigureAwait(false), LabCommandJson.Contract<TResult>()));
        _byType.Add(typeof(TCommand), async (command, cancellationToken) => await handler((TCommand)command, cancellationToken).ConfigureAwait(false));
        return this;
    }

    public LabCommandTable On<TCommand, TResult>(Func<TCommand, TResult> handler) where TCommand : ILabCommand<TResult> =>
        On<TCommand, TResult>((command, _) => Task.FromResult(handler(command)));

    /// <summary>A command that changes something and answers nothing.</summary>
    public LabCommandTable On<TCommand>(Action<TCommand> handler) where TCommand : ILabCommand<LabCommandDone> =>
        On<TCommand, LabCommandDone>(command =>
        {
            handler(command);
            return LabCommandDone.Value;
        });

    /// <summary>Runs a control line's command: <paramref name="command"/> by name, its JSON <paramref name="arguments"/>.</summary>
    public Task<JsonNode?> DispatchAsync(string command, JsonObject arguments, CancellationToken cancellationToken) =>
        _byName.TryGetValue(command, out var run)
            ? run(arguments, cancellationToken)
            : throw new ArgumentException($"Unknown command '{command}'; the {_simulator} simulator takes {Known}.");

    /// <summary>Runs a typed command in this process, through the handler a control line would reach.</summary>
    public async Task<TResult> RunAsync<TResult>(ILabCommand<TResult> command, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!_byType.TryGetValue(command.GetType(), out var run))
            throw new ArgumentException($"The {_simulator} simulator does not take {command.GetType().Name}; it takes {Known}.");
        return (TResult)(await run(command, cancellationToken).ConfigureAwait(false))!;
    }

    private string Known => _names.Count switch
    {
        0 => "no commands",
        1 => _names[0],
        _ => $"{string.Join(", ", _names.SkipLast(1))} and {_names[^1]}",
    };

    private static TCommand Arguments<TCommand>(string name, JsonObject arguments)
    {
        try
        {
            return arguments.Deserialize(LabCommandJson.Contract<TCommand>()) ?? throw new ArgumentException($"'{name}' needs its arguments.");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"The arguments of '{name}' do not fit: {ex.Message}", ex);
        }
    }
}
