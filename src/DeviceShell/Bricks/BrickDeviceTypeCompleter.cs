using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Completes a device type by name from the catalogue (quoted, since the names have spaces); a number is left as typed.</summary>
public sealed class BrickDeviceTypeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return BrickDeviceCatalog.Types.Where(t => pattern.IsMatch(t.Name)).OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase)
            .Select(t => new CompletionResult($"'{t.Name}'", t.Name, CompletionResultType.ParameterValue, $"{t.Name} (identifier {t.Identifier})"));
    }
}

/// <summary>Lets -DeviceIdentifier take a device type's name ('Temperature Bricklet 2.0') as well as its number.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class BrickDeviceIdentifierTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string text || int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)) return inputData;
        return BrickDeviceCatalog.Find(text)?.Identifier
            ?? throw new ArgumentTransformationMetadataException($"No Tinkerforge device is named '{text}'. Get-BrickDeviceType lists them.");
    }
}
