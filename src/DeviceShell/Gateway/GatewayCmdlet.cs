using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>What every Gateway cmdlet shares: the session lookup and the per-device error records of Multi calls.</summary>
public abstract class GatewayCmdlet : SessionCmdlet
{
    protected GatewaySession ResolveGateway() => ResolveSession<GatewaySession>("Gateway", "Connect-Gateway");

    /// <summary>The deadline of each call this command makes; null leaves the session's (Connect-Gateway -TimeoutSec).</summary>
    protected virtual TimeSpan? CallTimeout => null;

    /// <summary>Runs one engine call; an expected failure stops the command with its error record.</summary>
    protected T Call<T>(Func<CancellationToken, Task<T>> call, object? target = null)
    {
        try
        {
            return Await(call);
        }
        catch (Exception ex) when (ErrorRecords.IsExpected(ex))
        {
            ThrowFailure(ex, target);
            return default!;
        }
    }

    protected void Call(Func<CancellationToken, Task> call, object? target = null) =>
        Call<bool>(async token => { await call(token).ConfigureAwait(false); return true; }, target);

    /// <summary>
    /// The ids among <paramref name="deviceIds"/> that the gateway manages; every other id gets the same non-terminating
    /// GatewayDeviceNotFound record in every Gateway cmdlet (the gateway itself ignores some unknown ids silently).
    /// </summary>
    protected IReadOnlyList<uint> KeepManaged(GatewaySession session, IEnumerable<uint> deviceIds)
    {
        var managed = Call(token => session.GetDevicesAsync(token, CallTimeout)).Select(d => d.DeviceId).ToHashSet();
        var kept = new List<uint>();
        foreach (uint id in deviceIds.Distinct())
        {
            if (managed.Contains(id)) kept.Add(id);
            else WriteFailure(GatewayErrors.DeviceNotManaged(id));
        }
        return kept;
    }

    /// <summary>-PassThru of the sink cmdlets: the given devices as the gateway lists them now.</summary>
    protected void WriteDevices(GatewaySession session, IReadOnlyCollection<uint> deviceIds)
    {
        foreach (var device in Call(token => session.GetDevicesAsync(token, CallTimeout)).Where(d => deviceIds.Contains(d.DeviceId))) WriteObject(device);
    }

    /// <summary>A Multi call: one non-terminating error record per failed device; the others were changed.</summary>
    protected void WriteDeviceErrors(IReadOnlyList<GatewayDeviceError> errors)
    {
        foreach (var error in errors) WriteFailure(error.ToException(), error.DeviceId);
    }
}

/// <summary>A Gateway cmdlet whose calls take -TimeoutSec, the deadline of each call it makes to the gateway.</summary>
public abstract class GatewayCallCmdlet : GatewayCmdlet
{
    /// <summary>Seconds each call may take (the session's deadline, 10 s unless Connect-Gateway -TimeoutSec said otherwise, when not given).</summary>
    [Parameter]
    [ValidateRange(0.1, 3600)]
    public double? TimeoutSec { get; set; }

    protected override TimeSpan? CallTimeout => TimeoutSec is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
}

/// <summary>Completes -DeviceId with the ids of the default gateway session's last search or device list.</summary>
public sealed class GatewayDeviceIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        (SessionRegistry.Shared.GetDefault(DeviceWorld.Gateway) as GatewaySession)?.KnownDeviceIds
            .Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Where(id => id.StartsWith(wordToComplete, StringComparison.Ordinal))
            .Select(id => new CompletionResult(id, id, CompletionResultType.ParameterValue, id))
        ?? Enumerable.Empty<CompletionResult>();
}
