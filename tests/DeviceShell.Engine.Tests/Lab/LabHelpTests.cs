using System.Reflection;
using System.Text.RegularExpressions;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Engine.Tests.Lab;

/// <summary><c>dotnet DeviceShell.Lab.dll --help</c> names every setting a simulator reads.</summary>
public partial class LabHelpTests
{
    [GeneratedRegex("""(?:Setting|Number)\((?:options, )?"(?<name>[a-z][a-z-]*)"\)""")]
    private static partial Regex SettingRead();

    /// <summary>Each simulator's settings, as its folder's sources read them (LabSimulatorOptions.Setting and helpers over it).</summary>
    public static TheoryData<string> Simulators() => new(LabHost.Available.Keys.Order());

    [Theory]
    [MemberData(nameof(Simulators))]
    public void Help_lists_every_setting_the_simulator_reads(string simulator)
    {
        var type = LabHost.Available[simulator].Type;
        string folder = Path.Combine(TestRepository.Root, "src", "DeviceShell.Lab", type.Namespace!.Split('.')[^1]);
        var read = Directory.EnumerateFiles(folder, "*.cs")
            .SelectMany(file => SettingRead().Matches(File.ReadAllText(file)).Select(m => m.Groups["name"].Value))
            .ToHashSet();
        string help = LabCommandLine.HelpText(LabHost.Available.Select(p => (p.Key, p.Value.Description)));

        Assert.All(read, setting => Assert.Contains($"--{simulator}-{setting} ", help));
        Assert.Equal(read.Order(), LabCommandLine.SettingsHelp.Where(s => s.Simulator == simulator).Select(s => s.Setting).Order());
    }
}
