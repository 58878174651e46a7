using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace DeviceShell.Contract.Tests;

/// <summary>
/// Import safety and dependency isolation, proven by importing the module folder in a real PowerShell runspace.
/// This replaces a host that imitated PowerShell's import (load every exported type, then call the module initializer):
/// Import-Module does exactly that, so an exported type that needs the engine before the initializer makes it fail.
/// The test assembly has no DeviceShell.Engine of its own, so only the module's Dependencies/ folder can supply it.
/// </summary>
public class IsolationTests
{
    [Fact]
    public void The_module_imports_builds_every_cmdlet_and_loads_the_engine_from_Dependencies_into_its_own_context()
    {
        string root = TestRepository.Root, configuration = TestRepository.Configuration;
        string built = Path.Combine(root, "src", "DeviceShell", "bin", configuration, "net8.0");
        string module = Directory.CreateTempSubdirectory("ds-module").FullName;
        try
        {
            // The module layout: DeviceShell.dll alone at the top, everything else under Dependencies/.
            string dependencies = Directory.CreateDirectory(Path.Combine(module, "Dependencies")).FullName;
            foreach (string dll in Directory.GetFiles(built, "*.dll"))
                File.Copy(dll, Path.GetFileName(dll) == "DeviceShell.dll" ? Path.Combine(module, "DeviceShell.dll") : Path.Combine(dependencies, Path.GetFileName(dll)));

            using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
            runspace.Open();
            using var shell = PowerShell.Create();
            shell.Runspace = runspace;
            shell.AddScript("""
                param($Module)
                Import-Module $Module -ErrorAction Stop
                $sessions = @(Get-DeviceSession -ErrorAction Stop)
                # Reading ParameterSets makes PowerShell's binder build each cmdlet's metadata, which it refuses on clashing names or positions.
                $commands = @(Get-Command -Module DeviceShell -CommandType Cmdlet | ForEach-Object { $null = $_.ParameterSets; $_.Name })
                $engine = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'DeviceShell.Engine' })
                [pscustomobject]@{
                    Contexts = @($engine | ForEach-Object { [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
                    Locations = @($engine.Location)
                    Sessions = $sessions.Count
                    Commands = $commands
                }
                """).AddParameter("Module", Path.Combine(module, "DeviceShell.dll"));
            var pending = shell.BeginInvoke();
            Assert.True(pending.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(60)), "Import-Module and Get-DeviceSession did not end within 60 s.");
            var result = Assert.Single(shell.EndInvoke(pending));
            Assert.False(shell.HadErrors, string.Join("\n", shell.Streams.Error));

            Assert.Equal(new object[] { "DeviceShell" }, (object[])result.Properties["Contexts"].Value);
            Assert.Equal(new object[] { Path.Combine(dependencies, "DeviceShell.Engine.dll") }, (object[])result.Properties["Locations"].Value);
            Assert.Equal(0, result.Properties["Sessions"].Value);
            var manifest = DeviceShell.BuildTools.ModuleManifest.CmdletsToExport(File.ReadAllText(Path.Combine(root, "DeviceShell.psd1")));
            Assert.Equal(manifest.Order(StringComparer.Ordinal), ((object[])result.Properties["Commands"].Value).Cast<string>().Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(module, true);
        }
    }
}
