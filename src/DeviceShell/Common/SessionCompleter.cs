using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>Completes -Session with the Ids of open sessions; <see cref="SessionTransformationAttribute"/> turns the Id back into the session.</summary>
public sealed class SessionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        SessionRegistry.Shared.List()
            .Where(s => s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture).StartsWith(wordToComplete, StringComparison.Ordinal))
            .Select(s => new CompletionResult(s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), s.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), CompletionResultType.ParameterValue, s.ToString()));
}

/// <summary>Lets -Session take a session Id (as typed or completed) as well as a session object.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SessionTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        int? id = value switch
        {
            int number => number,
            long number when number is > 0 and <= int.MaxValue => (int)number,
            string text when int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int parsed) => parsed,
            _ => null,
        };
        if (id is null) return inputData;
        return SessionRegistry.Shared.Find(id.Value)
            ?? throw new ArgumentTransformationMetadataException($"There is no open session with Id {id}. Get-DeviceSession lists them.");
    }
}
