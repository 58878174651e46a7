using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Lab;

/// <summary>
/// The Lab control channel (docs/design/decisions.md §22.2): one JSON line per command on the Lab host's stdin, one
/// answer line on its stdout. The module's callers use the typed clients (<see cref="Brick"/>, <see cref="Gateway"/>,
/// <see cref="PiButton"/>, <see cref="Webifi"/>, <see cref="ReplayReportAsync"/>) and their commands in
/// LabCommands.cs; <see cref="ControlAsync"/> is the same channel by name, for scripts.
/// </summary>
public sealed partial class DeviceLab
{
    /// <summary>How long a control command may take unless its caller says otherwise (a cmdlet's -TimeoutSec).</summary>
    internal static readonly TimeSpan DefaultControlTimeout = TimeSpan.FromSeconds(10);

    internal BrickLabClient Brick => new(this);

    internal GatewayLabClient Gateway => new(this);

    internal PiButtonLabClient PiButton => new(this);

    internal WebifiLabClient Webifi => new(this);

    /// <summary>What <paramref name="simulator"/>'s replay saw so far; null when it serves no recording.</summary>
    internal Task<LabReplayReport?> ReplayReportAsync(string simulator, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        SendAsync<ReplayReportCommand, LabReplayReport?>(simulator, new ReplayReportCommand(), timeout, cancellationToken);

    /// <summary>Sends a typed command to <paramref name="simulator"/> and reads its typed answer.</summary>
    internal async Task<TResult> SendAsync<TCommand, TResult>(string simulator, TCommand command, TimeSpan? timeout, CancellationToken cancellationToken)
        where TCommand : ILabCommand<TResult>
    {
        var arguments = (JsonObject)JsonSerializer.SerializeToNode(command, LabCommandJson.Contract<TCommand>())!;
        var result = await ControlAsync(simulator, TCommand.CommandName, arguments, timeout ?? DefaultControlTimeout, cancellationToken).ConfigureAwait(false);
        return result.Deserialize(LabCommandJson.Contract<TResult>())!;
    }

    /// <summary>
    /// Sends a command to one simulator of the running lab by its wire name (<c>add-device</c> with
    /// <c>{"uid":…,"deviceIdentifier":…}</c>) and returns its result. A refused command becomes a
    /// <see cref="DeviceException"/> LabCommandRefused with the simulator's reason; no answer within
    /// <paramref name="timeout"/> is LabControlTimeout.
    /// </summary>
    public async Task<JsonElement> ControlAsync(string simulator, string command, JsonObject? arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (_process.HasExited)
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "LabNotRunning", "The lab has stopped.", this);
        int id = Interlocked.Increment(ref _lastControlId);
        var answer = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            var request = new JsonObject { ["id"] = id, ["simulator"] = simulator, ["command"] = command, ["args"] = arguments ?? new JsonObject() };
            await _controlGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _process.StandardInput.WriteLineAsync(request.ToJsonString().AsMemory(), cancellationToken).ConfigureAwait(false);
                await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _controlGate.Release();
            }
            JsonElement reply;
            try
            {
                reply = await answer.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new DeviceException(DeviceErrorKind.Timeout, "LabControlTimeout", $"The lab did not answer '{command}' for {simulator} within {timeout.TotalSeconds:0.#} s.", this);
            }
            if (reply.TryGetProperty("ok", out var ok) && ok.GetBoolean())
                return reply.TryGetProperty("result", out var result) ? result.Clone() : default;
            string reason = reply.TryGetProperty("error", out var error) ? error.GetString() ?? "" : "no reason given";
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "LabCommandRefused", $"The {simulator} simulator refused '{command}': {reason}", this);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }
}
