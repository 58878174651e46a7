namespace System.Management.Automation.Language;

/// <summary>Only present because IArgumentCompleter's signature names it; completers get null in tests.</summary>
public class CommandAst
{
    private CommandAst() { }
}
