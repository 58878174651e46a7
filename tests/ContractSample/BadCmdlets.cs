using System.Management.Automation;

namespace ContractSample;

/// <summary>An unapproved verb, no OutputType, no help page, not in the manifest.</summary>
[Cmdlet("Frobnicate", "Widget")]
public sealed class FrobnicateWidgetCommand : PSCmdlet
{
    [Parameter]
    public int Port { get; set; }
}

/// <summary>Changes something without SupportsShouldProcess; -Session that cannot come from the pipeline; -Port of another type.</summary>
[Cmdlet(VerbsCommon.Set, "Widget")]
[OutputType(typeof(string))]
public sealed class SetWidgetCommand : PSCmdlet
{
    [Parameter]
    public string? Session { get; set; }

    [Parameter]
    public string? Port { get; set; }

    [Parameter]
    public string? Colour { get; set; }

    [Parameter(Position = 0)]
    [Alias("cf")]
    public string? Shade { get; set; }

    [Parameter(Position = 0)]
    [Alias("Shade")]
    public string? Tint { get; set; }
}

/// <summary>A Brick cmdlet exists, so the Bricks world's card names are required and missing.</summary>
[Cmdlet(VerbsCommon.Get, "BrickWidget")]
[OutputType(typeof(string))]
public sealed class GetBrickWidgetCommand : PSCmdlet
{
}

/// <summary>A generic constraint naming a type of the (pretend) engine: loading this type loads the engine.</summary>
public abstract class ConstrainedHelper
{
    protected static T First<T>(T[] items) where T : ErrorRecord => items[0];
}

/// <summary>An auto-property of an enum of the (pretend) engine: its backing field makes loading this type load the engine.</summary>
public sealed class CategoryHolder
{
    public ErrorCategory Category { get; set; }
}
