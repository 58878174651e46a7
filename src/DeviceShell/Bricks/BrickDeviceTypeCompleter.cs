using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Language;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>
/// Completes a Brick device type from the catalogue: -Name and -DeviceType with the display names (quoted, they hold
/// blanks), -Identifier / -DeviceIdentifier with the numbers, each shown with its name.
/// </summary>
public sealed class BrickDeviceTypeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = (wordToComplete ?? "").Trim('\'', '"');
        bool byName = parameterName.Equals("Name", StringComparison.OrdinalIgnoreCase) || parameterName.Equals("DeviceType", StringComparison.OrdinalIgnoreCase);
        var pattern = new WildcardPattern((byName ? "*" : "") + typed + "*", WildcardOptions.IgnoreCase);
        foreach (var type in BrickDeviceCatalog.Types)
        {
            string identifier = type.Identifier.ToString(CultureInfo.InvariantCulture);
            if (byName && pattern.IsMatch(type.Name))
                yield return new CompletionResult("'" + type.Name.Replace("'", "''", StringComparison.Ordinal) + "'", type.Name, CompletionResultType.ParameterValue, $"{type.Name} ({identifier})");
            else if (!byName && pattern.IsMatch(identifier))
                yield return new CompletionResult(identifier, $"{identifier} {type.Name}", CompletionResultType.ParameterValue, type.Name);
        }
    }
}

/// <summary>Lets -DeviceIdentifier take a device type's name ('Temperature Bricklet 2.0') as well as its number.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class BrickDeviceIdentifierTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string text || int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return inputData;
        return BrickDeviceCatalog.Find(text)?.Identifier
            ?? throw new ArgumentTransformationMetadataException($"No Tinkerforge device is named '{text}'. Get-BrickDeviceType lists them.");
    }
}
