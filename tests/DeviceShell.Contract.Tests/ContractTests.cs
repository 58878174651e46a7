using System.Reflection;
using DeviceShell.BuildTools;

namespace DeviceShell.Contract.Tests;

public class ContractTests
{
    private static readonly string RepoRoot = TestRepository.Root;
    private static readonly string Configuration = TestRepository.Configuration;
    private static readonly string PowerShellReference = TestRepository.Metadata("PowerShellReference");

    private static string Built(string project, string framework, string assembly) =>
        Path.Combine(RepoRoot, project, "bin", Configuration, framework, assembly);

    private static ContractInputs DeviceShellInputs() => new(
        Built("src/DeviceShell", "net8.0", "DeviceShell.dll"),
        PowerShellReference,
        File.ReadAllText(Path.Combine(RepoRoot, "DeviceShell.psd1")),
        Path.Combine(RepoRoot, "docs", "cmdlets"),
        Path.Combine(RepoRoot, "docs", "cmdlets", "DeviceShell.md"),
        Directory.GetFiles(Path.Combine(RepoRoot, "src", "DeviceShell", "Formats"), "*.format.ps1xml"),
        "DeviceShell.Engine");

    [Fact]
    public void DeviceShell_keeps_the_module_contract()
    {
        var problems = ModuleContract.Check(DeviceShellInputs());
        Assert.True(problems.Count == 0, "Contract problems:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void The_checker_catches_every_rule_on_a_bad_sample()
    {
        string sample = Path.Combine(RepoRoot, "tests", "ContractSample");
        var problems = ModuleContract.Check(new ContractInputs(
            Built("tests/ContractSample", "net8.0", "ContractSample.dll"),
            PowerShellReference,
            File.ReadAllText(Path.Combine(sample, "ContractSample.psd1")),
            Path.Combine(sample, "docs"),
            Path.Combine(sample, "docs", "ContractSample.md"),
            Array.Empty<string>(),
            null));

        void Expect(string fragment) => Assert.True(problems.Any(p => p.Contains(fragment, StringComparison.Ordinal)),
            $"Expected a problem containing \"{fragment}\"; got:\n{string.Join("\n", problems)}");
        Expect("Frobnicate-Widget: 'Frobnicate' is not an approved verb.");
        Expect("Frobnicate-Widget: has no [OutputType].");
        Expect("Frobnicate-Widget: has no help page");
        Expect("Frobnicate-Widget: not in the manifest's CmdletsToExport.");
        Expect("Remove-Widget: in CmdletsToExport but there is no such cmdlet.");
        Expect("Set-Widget: changes state but does not declare SupportsShouldProcess.");
        Expect("Set-Widget: -Session does not bind from the pipeline.");
        Expect("Set-Widget: the help page has no example.");
        Expect("Set-Widget: the help page does not document -Colour.");
        Expect("-Port: has different types");
        Expect("Set-Widget: -Shade uses the common parameter name 'cf'.");
        Expect("Set-Widget: 'Shade' names both -Shade and -Tint.");
        Expect("Set-Widget: -Shade and -Tint share position 0");
        Expect("Set-Widget: not listed on the module page");
        Expect("Connect-Brick: the Bricks world has landed but its card name is missing.");
        Expect("Get-BrickEnumeration: the Bricks world has landed but its card name is missing.");
        Assert.DoesNotContain(problems, p => p.StartsWith("Get-BrickWidget: the help page", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.Contains("Send-WebifiData", StringComparison.Ordinal));

        // Import safety, with PowerShell's own assembly playing the engine's part.
        string sampleAssembly = Built("tests/ContractSample", "net8.0", "ContractSample.dll");
        using var context = ModuleContract.LoadContext(sampleAssembly, PowerShellReference);
        var unsafeTypes = ModuleContract.ImportSafety(context.LoadFromAssemblyPath(sampleAssembly), "System.Management.Automation").ToList();
        Assert.Contains(unsafeTypes, p => p.StartsWith("ContractSample.SetWidgetCommand: derives from an engine type", StringComparison.Ordinal));
        Assert.Contains(unsafeTypes, p => p.StartsWith("ContractSample.ConstrainedHelper: the generic parameter T is constrained", StringComparison.Ordinal));
        Assert.Contains(unsafeTypes, p => p.StartsWith("ContractSample.CategoryHolder.<Category>k__BackingField: a field of the engine value type", StringComparison.Ordinal));
    }

    [Fact]
    public void DeviceShell_is_import_safe_through_property_backing_fields()
    {
        // The rule must see through properties to their backing fields: a Nullable<enum> parameter of an engine enum
        // would be flagged; an array of enums is not (the bad sample shows the flagged case).
        var inputs = DeviceShellInputs();
        using var context = ModuleContract.LoadContext(inputs.ModuleAssembly, inputs.PowerShellReference);
        var module = context.LoadFromAssemblyPath(inputs.ModuleAssembly);
        Assert.Empty(ModuleContract.ImportSafety(module, "DeviceShell.Engine"));
    }

    [Fact]
    public void The_help_converter_reads_every_page_and_writes_MAML_with_examples()
    {
        var manifest = File.ReadAllText(Path.Combine(RepoRoot, "DeviceShell.psd1"));
        var pages = ModuleManifest.CmdletsToExport(manifest)
            .Select(n => HelpMarkdown.Parse(File.ReadAllText(Path.Combine(RepoRoot, "docs", "cmdlets", n + ".md"))))
            .ToList();
        var maml = MamlWriter.Write(pages);
        System.Xml.Linq.XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        var commands = maml.Root!.Elements(command + "command").ToList();
        Assert.Equal(pages.Count, commands.Count);
        foreach (var element in commands)
        {
            string name = element.Element(command + "details")!.Element(command + "name")!.Value;
            Assert.True(element.Element(command + "examples")!.Elements().Any(), $"{name} has no example in MAML.");
            Assert.True(element.Element(command + "syntax")!.Elements().Any(), $"{name} has no syntax in MAML.");
        }
        var get = pages.Single(p => p.Name == "Get-DeviceSession");
        Assert.Equal(new[] { "All", "Id" }, get.Syntax.Select(s => s.SetName));
        Assert.Equal("Int32[]", get.Parameters.Single(p => p.Name == "Id").Field("Type"));
    }

    [Fact]
    public void The_manifest_reader_ignores_comments_and_stamps_the_version()
    {
        const string text = "@{\n ModuleVersion = '0.0.0'\n CmdletsToExport = @(\n  # 'Not-This'\n  'Get-A' # trailing\n  'Set-B'\n )\n}";
        Assert.Equal(new[] { "Get-A", "Set-B" }, ModuleManifest.CmdletsToExport(text));
        Assert.Contains("ModuleVersion = '1.2.3'", ModuleManifest.StampVersion(text, "1.2.3"), StringComparison.Ordinal);
    }
}
