using System.Text.RegularExpressions;

namespace DeviceShell.BuildTools;

/// <summary>The few fields of DeviceShell.psd1 the build and the contract tests need, read without PowerShell.</summary>
public static partial class ModuleManifest
{
    public static IReadOnlyList<string> CmdletsToExport(string psd1Text)
    {
        var block = ExportBlockRegex().Match(psd1Text);
        if (!block.Success) throw new FormatException("The manifest has no CmdletsToExport = @( ... ) block.");
        return QuotedRegex().Matches(StripComments(block.Groups[1].Value)).Select(m => m.Groups[1].Value).ToList();
    }

    /// <summary>The manifest with ModuleVersion set to the build's version.</summary>
    public static string StampVersion(string psd1Text, string version) =>
        VersionRegex().Replace(psd1Text, m => m.Groups[1].Value + version + "'", 1);

    private static string StripComments(string text) => string.Join('\n', text.Split('\n').Select(l => l.Split('#')[0]));

    [GeneratedRegex(@"CmdletsToExport\s*=\s*@\((.*?)\)", RegexOptions.Singleline)]
    private static partial Regex ExportBlockRegex();

    [GeneratedRegex(@"'([^']+)'")]
    private static partial Regex QuotedRegex();

    [GeneratedRegex(@"(ModuleVersion\s*=\s*')[^']*'")]
    private static partial Regex VersionRegex();
}
