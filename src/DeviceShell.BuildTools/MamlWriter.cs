using System.Xml.Linq;

namespace DeviceShell.BuildTools;

/// <summary>
/// Writes PowerShell's MAML help (en-US/DeviceShell.dll-Help.xml) from the markdown pages, for
/// machines without platyPS; build.ps1 uses platyPS's New-ExternalHelp instead when it is installed.
/// </summary>
public static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Write(IEnumerable<CmdletHelp> pages)
    {
        var root = new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev));
        foreach (var page in pages) root.Add(CommandElement(page));
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root);
    }

    private static XElement CommandElement(CmdletHelp page)
    {
        string[] verbNoun = page.Name.Split('-', 2);
        return new XElement(Command + "command",
            new XElement(Command + "details",
                new XElement(Command + "name", page.Name),
                new XElement(Command + "verb", verbNoun[0]),
                new XElement(Command + "noun", verbNoun.Length > 1 ? verbNoun[1] : ""),
                Paragraphs(Maml + "description", page.Synopsis)),
            Paragraphs(Maml + "description", page.Description),
            new XElement(Command + "syntax", SyntaxItems(page)),
            new XElement(Command + "parameters", page.Parameters.Select(p => ParameterElement(p, null))),
            new XElement(Command + "inputTypes", page.Inputs.Select(t => new XElement(Command + "inputType", TypeElement(t.Type), Paragraphs(Maml + "description", t.Description)))),
            new XElement(Command + "returnValues", page.Outputs.Select(t => new XElement(Command + "returnValue", TypeElement(t.Type), Paragraphs(Maml + "description", t.Description)))),
            new XElement(Maml + "alertSet", new XElement(Maml + "alert", Paragraphs(null, page.Notes))),
            new XElement(Command + "examples", page.Examples.Select(e => new XElement(Command + "example",
                new XElement(Maml + "title", $"-------------------------- {HelpMarkdown.PlainText(e.Title)} --------------------------"),
                new XElement(Dev + "code", e.Code),
                Paragraphs(Dev + "remarks", e.Remarks)))),
            new XElement(Maml + "relatedLinks", page.RelatedLinks.Select(l => new XElement(Maml + "navigationLink",
                new XElement(Maml + "linkText", l), new XElement(Maml + "uri")))));
    }

    /// <summary>One syntax item per parameter set named in the SYNTAX section, with the parameters of that set.</summary>
    private static IEnumerable<XElement> SyntaxItems(CmdletHelp page)
    {
        var sets = page.Syntax.Select(s => s.SetName).Distinct().DefaultIfEmpty("__AllParameterSets");
        foreach (string set in sets)
        {
            var parameters = page.Parameters.Where(p => InSet(p, set));
            yield return new XElement(Command + "syntaxItem", new XElement(Maml + "name", page.Name), parameters.Select(p => ParameterElement(p, set)));
        }
    }

    private static bool InSet(HelpParameter parameter, string set)
    {
        string sets = parameter.Field("Parameter Sets", "(All)");
        return set == "__AllParameterSets" || sets.Contains("(All)", StringComparison.OrdinalIgnoreCase)
            || sets.Split(',').Select(s => s.Trim()).Contains(set, StringComparer.OrdinalIgnoreCase);
    }

    private static XElement ParameterElement(HelpParameter parameter, string? set)
    {
        string type = parameter.Field("Type", "Object");
        bool required = parameter.Field("Required").StartsWith("True", StringComparison.OrdinalIgnoreCase);
        // Required may be "True (Id), False (All)" when it differs by set; take the answer for this set.
        if (set is not null && parameter.Field("Required").Contains('(', StringComparison.Ordinal))
            required = parameter.Field("Required").Split(',').Any(r => r.Contains("True", StringComparison.OrdinalIgnoreCase) && r.Contains(set, StringComparison.OrdinalIgnoreCase));
        string position = parameter.Field("Position", "Named");
        string aliases = parameter.Field("Aliases", "none");
        return new XElement(Command + "parameter",
            new XAttribute("required", required ? "true" : "false"),
            new XAttribute("variableLength", type.EndsWith("[]", StringComparison.Ordinal) ? "true" : "false"),
            new XAttribute("globbing", parameter.Field("Accept wildcard characters", "False").ToLowerInvariant()),
            new XAttribute("pipelineInput", parameter.Field("Accept pipeline input", "False")),
            new XAttribute("position", position.Equals("Named", StringComparison.OrdinalIgnoreCase) ? "named" : position),
            new XAttribute("aliases", aliases),
            new XElement(Maml + "name", parameter.Name),
            Paragraphs(Maml + "description", parameter.Description),
            type == "SwitchParameter" ? null : new XElement(Command + "parameterValue", new XAttribute("required", "true"), new XAttribute("variableLength", "false"), type),
            TypeElement(type),
            new XElement(Dev + "defaultValue", parameter.Field("Default value", "None")));
    }

    private static XElement TypeElement(string type) => new(Dev + "type", new XElement(Maml + "name", type), new XElement(Maml + "uri"));

    private static XElement Paragraphs(XName? container, string text)
    {
        string plain = HelpMarkdown.PlainText(text);
        var paragraphs = plain.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => new XElement(Maml + "para", p.Replace('\n', ' ')));
        return container is null
            ? new XElement(Maml + "para", plain.Trim())
            : new XElement(container, paragraphs);
    }
}
