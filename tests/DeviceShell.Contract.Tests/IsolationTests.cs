using System.Diagnostics;
using System.Reflection;

namespace DeviceShell.Contract.Tests;

/// <summary>The dependency isolation of the module folder, exercised in a separate process as PowerShell would load it.</summary>
public class IsolationTests
{
    private static string Metadata(string key) =>
        typeof(IsolationTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    [Fact]
    public async Task The_engine_loads_from_Dependencies_into_the_module_context_after_import()
    {
        string root = Metadata("RepoRoot"), configuration = Metadata("Configuration");
        string built = Path.Combine(root, "src", "DeviceShell", "bin", configuration, "net8.0");
        string module = Directory.CreateTempSubdirectory("ds-module").FullName;
        try
        {
            // The module layout: DeviceShell.dll alone at the top, everything else under Dependencies/.
            string dependencies = Directory.CreateDirectory(Path.Combine(module, "Dependencies")).FullName;
            foreach (string dll in Directory.GetFiles(built, "*.dll"))
                File.Copy(dll, Path.GetFileName(dll) == "DeviceShell.dll" ? Path.Combine(module, "DeviceShell.dll") : Path.Combine(dependencies, Path.GetFileName(dll)));

            string host = Path.Combine(root, "tests", "ModuleHost", "bin", configuration, "net10.0", "ModuleHost.dll");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(host);
            start.ArgumentList.Add(module);
            using var process = Process.Start(start)!;
            string output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(process.ExitCode == 0, output);
            string[] parts = output.Trim().Split('|');
            Assert.Equal("DeviceShell", parts[0]);
            Assert.Equal(Path.Combine(dependencies, "DeviceShell.Engine.dll"), parts[1]);
            Assert.Equal("0", parts[3]);
        }
        finally
        {
            Directory.Delete(module, true);
        }
    }
}
