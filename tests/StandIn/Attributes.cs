// Attributes with the shape of PowerShell's. The harness's binder enforces the validation ones.
namespace System.Management.Automation;

public enum ConfirmImpact { None, Low, Medium, High }

public abstract class CmdletMetadataAttribute : Attribute { }

public abstract class CmdletCommonMetadataAttribute : CmdletMetadataAttribute
{
    public string? DefaultParameterSetName { get; set; }
    public bool SupportsShouldProcess { get; set; }
    public bool SupportsPaging { get; set; }
    public bool SupportsTransactions { get; set; }
    public ConfirmImpact ConfirmImpact { get; set; } = ConfirmImpact.Medium;
    public string? HelpUri { get; set; }
    public RemotingCapability RemotingCapability { get; set; }
}

public enum RemotingCapability { None, PowerShell, SupportedByCommand, OwnedByCommand }

[AttributeUsage(AttributeTargets.Class)]
public sealed class CmdletAttribute : CmdletCommonMetadataAttribute
{
    public CmdletAttribute(string verbName, string nounName)
    {
        VerbName = verbName;
        NounName = nounName;
    }

    public string VerbName { get; }
    public string NounName { get; }
}

public abstract class ParsingBaseAttribute : CmdletMetadataAttribute { }

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = true)]
public sealed class ParameterAttribute : ParsingBaseAttribute
{
    public const string AllParameterSets = "__AllParameterSets";
    public ParameterAttribute() { }
    public int Position { get; set; } = int.MinValue;
    public string ParameterSetName { get; set; } = AllParameterSets;
    public bool Mandatory { get; set; }
    public bool ValueFromPipeline { get; set; }
    public bool ValueFromPipelineByPropertyName { get; set; }
    public bool ValueFromRemainingArguments { get; set; }
    public string? HelpMessage { get; set; }
    public string? HelpMessageBaseName { get; set; }
    public string? HelpMessageResourceId { get; set; }
    public bool DontShow { get; set; }
}

[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = true)]
public sealed class OutputTypeAttribute : CmdletMetadataAttribute
{
    public OutputTypeAttribute(params Type[] type) => Type = type.Select(t => new PSTypeName(t)).ToArray();
    public OutputTypeAttribute(params string[] type) => Type = type.Select(t => new PSTypeName(t)).ToArray();
    public PSTypeName[] Type { get; }
    public string[] ParameterSetName { get; set; } = new[] { ParameterAttribute.AllParameterSets };
    public string? ProviderCmdlet { get; set; }
}

public class PSTypeName
{
    public PSTypeName(Type type) { Type = type; Name = type.FullName!; }
    public PSTypeName(string name) => Name = name;
    public string Name { get; }
    public Type? Type { get; }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Class)]
public sealed class AliasAttribute : ParsingBaseAttribute
{
    public AliasAttribute(params string[] aliasNames) => AliasNames = aliasNames;
    public IList<string> AliasNames { get; }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class CredentialAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) => inputData;
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AllowNullAttribute : CmdletMetadataAttribute { }

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AllowEmptyStringAttribute : CmdletMetadataAttribute { }

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class AllowEmptyCollectionAttribute : CmdletMetadataAttribute { }

/// <summary>Validation as the binder applies it: throws <see cref="ValidationMetadataException"/> on a bad value.</summary>
public abstract class ValidateArgumentsAttribute : CmdletMetadataAttribute
{
    internal abstract void Check(object? value);
}

public abstract class ValidateEnumeratedArgumentsAttribute : ValidateArgumentsAttribute
{
    internal override void Check(object? value)
    {
        if (value is System.Collections.IEnumerable items and not string)
            foreach (object? item in items) CheckElement(item);
        else CheckElement(value);
    }

    internal abstract void CheckElement(object? element);
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateRangeAttribute : ValidateEnumeratedArgumentsAttribute
{
    public ValidateRangeAttribute(object minRange, object maxRange) { MinRange = minRange; MaxRange = maxRange; }
    public object MinRange { get; }
    public object MaxRange { get; }

    internal override void CheckElement(object? element)
    {
        if (element is null) return;
        var comparable = (IComparable)element;
        object min = Convert.ChangeType(MinRange, element.GetType(), System.Globalization.CultureInfo.InvariantCulture);
        object max = Convert.ChangeType(MaxRange, element.GetType(), System.Globalization.CultureInfo.InvariantCulture);
        if (comparable.CompareTo(min) < 0 || comparable.CompareTo(max) > 0)
            throw new ValidationMetadataException($"The argument {element} is outside the range {MinRange}..{MaxRange}.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateSetAttribute : ValidateEnumeratedArgumentsAttribute
{
    public ValidateSetAttribute(params string[] validValues) => ValidValues = validValues;
    public IList<string> ValidValues { get; }
    public bool IgnoreCase { get; set; } = true;

    internal override void CheckElement(object? element)
    {
        string text = Convert.ToString(element, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        if (!ValidValues.Contains(text, IgnoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal))
            throw new ValidationMetadataException($"The argument '{text}' does not belong to the set {string.Join(",", ValidValues)}.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNotNullAttribute : ValidateArgumentsAttribute
{
    internal override void Check(object? value)
    {
        if (value is null) throw new ValidationMetadataException("The argument is null.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateNotNullOrEmptyAttribute : ValidateArgumentsAttribute
{
    internal override void Check(object? value)
    {
        bool empty = value switch
        {
            null => true,
            string s => s.Length == 0,
            Array a => a.Length == 0,
            _ => false,
        };
        if (empty) throw new ValidationMetadataException("The argument is null or empty.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateLengthAttribute : ValidateEnumeratedArgumentsAttribute
{
    public ValidateLengthAttribute(int minLength, int maxLength) { MinLength = minLength; MaxLength = maxLength; }
    public int MinLength { get; }
    public int MaxLength { get; }

    internal override void CheckElement(object? element)
    {
        int length = (element as string)?.Length ?? 0;
        if (length < MinLength || length > MaxLength)
            throw new ValidationMetadataException($"The argument length {length} is outside {MinLength}..{MaxLength}.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidateCountAttribute : ValidateArgumentsAttribute
{
    public ValidateCountAttribute(int minLength, int maxLength) { MinLength = minLength; MaxLength = maxLength; }
    public int MinLength { get; }
    public int MaxLength { get; }

    internal override void Check(object? value)
    {
        int count = (value as Array)?.Length ?? 1;
        if (count < MinLength || count > MaxLength)
            throw new ValidationMetadataException($"The argument count {count} is outside {MinLength}..{MaxLength}.");
    }
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidatePatternAttribute : ValidateEnumeratedArgumentsAttribute
{
    public ValidatePatternAttribute(string regexPattern) => RegexPattern = regexPattern;
    public string RegexPattern { get; }
    public System.Text.RegularExpressions.RegexOptions Options { get; set; } = System.Text.RegularExpressions.RegexOptions.IgnoreCase;

    internal override void CheckElement(object? element)
    {
        string text = Convert.ToString(element, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        if (!System.Text.RegularExpressions.Regex.IsMatch(text, RegexPattern, Options))
            throw new ValidationMetadataException($"The argument '{text}' does not match '{RegexPattern}'.");
    }
}

public abstract class ArgumentTransformationAttribute : CmdletMetadataAttribute
{
    public abstract object? Transform(EngineIntrinsics engineIntrinsics, object? inputData);
}

[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public class ArgumentCompleterAttribute : Attribute
{
    public ArgumentCompleterAttribute(Type type) => Type = type;
    public ArgumentCompleterAttribute(ScriptBlock scriptBlock) => ScriptBlock = scriptBlock;
    public Type? Type { get; }
    public ScriptBlock? ScriptBlock { get; }
}

public interface IArgumentCompleter
{
    IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters);
}

public enum CompletionResultType { Text, History, Command, ProviderItem, ProviderContainer, Property, Method, ParameterName, ParameterValue, Variable, Namespace, Type, Keyword, DynamicKeyword }

public class CompletionResult
{
    public CompletionResult(string completionText, string listItemText, CompletionResultType resultType, string toolTip)
    {
        CompletionText = completionText;
        ListItemText = listItemText;
        ResultType = resultType;
        ToolTip = toolTip;
    }

    public CompletionResult(string completionText) : this(completionText, completionText, CompletionResultType.Text, completionText) { }
    public string CompletionText { get; }
    public string ListItemText { get; }
    public CompletionResultType ResultType { get; }
    public string ToolTip { get; }
}

public class ScriptBlock
{
    private ScriptBlock() { }
}

public class EngineIntrinsics
{
    internal EngineIntrinsics() { }
}
