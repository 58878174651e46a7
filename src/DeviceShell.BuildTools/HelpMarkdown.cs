using System.Text.RegularExpressions;

namespace DeviceShell.BuildTools;

/// <summary>One cmdlet's help as written in docs/cmdlets/&lt;Name&gt;.md (the platyPS markdown layout).</summary>
public sealed record CmdletHelp(
    string Name,
    string Synopsis,
    string Description,
    IReadOnlyList<(string SetName, string Syntax)> Syntax,
    IReadOnlyList<HelpExample> Examples,
    IReadOnlyList<HelpParameter> Parameters,
    IReadOnlyList<(string Type, string Description)> Inputs,
    IReadOnlyList<(string Type, string Description)> Outputs,
    string Notes,
    IReadOnlyList<string> RelatedLinks);

public sealed record HelpExample(string Title, string Code, string Remarks);

/// <summary>A parameter section: "### -Name", its text, and the yaml block's fields.</summary>
public sealed record HelpParameter(string Name, string Description, IReadOnlyDictionary<string, string> Fields)
{
    public string Field(string name, string fallback = "") => Fields.TryGetValue(name, out string? value) && value.Length > 0 ? value : fallback;
}

/// <summary>Reads the platyPS markdown layout. Lenient about blank lines, strict about the headings it needs.</summary>
public static partial class HelpMarkdown
{
    public static CmdletHelp Parse(string markdown)
    {
        string text = StripFrontMatter(markdown.Replace("\r\n", "\n", StringComparison.Ordinal));
        var title = TitleRegex().Match(text);
        if (!title.Success) throw new FormatException("The page has no '# Name' title.");
        var sections = SplitSections(text, "## ");

        var syntax = new List<(string, string)>();
        string syntaxText = Section(sections, "SYNTAX");
        var syntaxSets = SplitSections(syntaxText, "### ");
        if (syntaxSets.Count == 0)
        {
            foreach (string block in CodeBlocks(syntaxText)) syntax.Add(("__AllParameterSets", Flatten(block)));
        }
        else
        {
            foreach (var (heading, body) in syntaxSets)
                foreach (string block in CodeBlocks(body)) syntax.Add((heading.Replace("(Default)", "", StringComparison.Ordinal).Trim(), Flatten(block)));
        }

        var examples = SplitSections(Section(sections, "EXAMPLES"), "### ")
            .Select(e =>
            {
                var blocks = CodeBlocks(e.Body).ToList();
                string remarks = CodeBlockRegex().Replace(e.Body, "").Trim();
                return new HelpExample(e.Heading, string.Join("\n\n", blocks).Trim(), remarks);
            })
            .ToList();

        var parameters = SplitSections(Section(sections, "PARAMETERS"), "### ")
            .Where(p => p.Heading.StartsWith('-'))
            .Select(p =>
            {
                var yaml = YamlBlockRegex().Match(p.Body);
                var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                if (yaml.Success)
                {
                    foreach (string line in yaml.Groups[1].Value.Split('\n'))
                    {
                        int colon = line.IndexOf(':', StringComparison.Ordinal);
                        if (colon > 0) fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                }
                string description = YamlBlockRegex().Replace(p.Body, "").Trim();
                return new HelpParameter(p.Heading[1..].Trim(), description, fields);
            })
            .ToList();

        return new CmdletHelp(
            title.Groups[1].Value.Trim(),
            Section(sections, "SYNOPSIS").Trim(),
            Section(sections, "DESCRIPTION").Trim(),
            syntax,
            examples,
            parameters,
            TypeList(Section(sections, "INPUTS")),
            TypeList(Section(sections, "OUTPUTS")),
            Section(sections, "NOTES").Trim(),
            LinkRegex().Matches(Section(sections, "RELATED LINKS")).Select(m => m.Groups[1].Value).ToList());
    }

    /// <summary>
    /// Prose as Get-Help shows it: MAML paragraphs are plain text, so inline markup is reduced to what it
    /// marks (code spans and bold to their text, a link to its text, plus the address when it leaves the docs).
    /// </summary>
    public static string PlainText(string markdown)
    {
        string text = InlineLinkRegex().Replace(markdown, m =>
            m.Groups[2].Value.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? $"{m.Groups[1].Value} ({m.Groups[2].Value})" : m.Groups[1].Value);
        text = BoldRegex().Replace(text, "$1");
        return CodeSpanRegex().Replace(text, "$2");
    }

    private static string StripFrontMatter(string text)
    {
        if (!text.StartsWith("---\n", StringComparison.Ordinal)) return text;
        int end = text.IndexOf("\n---\n", 4, StringComparison.Ordinal);
        return end < 0 ? text : text[(end + 5)..];
    }

    /// <summary>Splits at headings of the given level, ignoring heading-like lines inside code blocks.</summary>
    public static List<(string Heading, string Body)> SplitSections(string text, string marker)
    {
        var result = new List<(string, string)>();
        string? heading = null;
        var body = new List<string>();
        bool inCode = false;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
            if (!inCode && line.StartsWith(marker, StringComparison.Ordinal))
            {
                if (heading is not null) result.Add((heading, string.Join('\n', body)));
                heading = line[marker.Length..].Trim();
                body.Clear();
            }
            else if (heading is not null)
            {
                body.Add(line);
            }
        }
        if (heading is not null) result.Add((heading, string.Join('\n', body)));
        return result;
    }

    private static string Section(List<(string Heading, string Body)> sections, string name) =>
        sections.FirstOrDefault(s => s.Heading.Equals(name, StringComparison.OrdinalIgnoreCase)).Body ?? "";

    private static IEnumerable<string> CodeBlocks(string text) => CodeBlockRegex().Matches(text).Select(m => m.Groups[1].Value.TrimEnd());

    private static string Flatten(string syntax) => WhitespaceRegex().Replace(syntax, " ").Trim();

    private static List<(string, string)> TypeList(string text) =>
        SplitSections(text, "### ").Select(t => (t.Heading, t.Body.Trim())).ToList();

    [GeneratedRegex(@"^# (.+)$", RegexOptions.Multiline)]
    private static partial Regex TitleRegex();

    [GeneratedRegex(@"```[a-zA-Z]*\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlockRegex();

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlockRegex();

    [GeneratedRegex(@"\[([^\]]+)\]\(")]
    private static partial Regex LinkRegex();

    [GeneratedRegex(@"\[([^\]]+)\]\(([^)\s]+)\)")]
    private static partial Regex InlineLinkRegex();

    [GeneratedRegex(@"\*\*([^*]+)\*\*")]
    private static partial Regex BoldRegex();

    // A span opens and closes with the same number of backticks, so ``"`n"`` can hold one; the padding spaces go.
    [GeneratedRegex(@"(?<!`)(`+) ?(.+?) ?\1(?!`)", RegexOptions.Singleline)]
    private static partial Regex CodeSpanRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();
}
