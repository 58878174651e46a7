using System.IO.Compression;
using System.Xml.Linq;
using DeviceShell.BuildTools;

namespace DeviceShell.Contract.Tests;

public class PackagingTests
{
    [Fact]
    public void The_nupkg_has_the_module_at_its_root_and_PowerShell_tags()
    {
        string folder = Directory.CreateTempSubdirectory("ds-pack").FullName;
        try
        {
            string module = Directory.CreateDirectory(Path.Combine(folder, "DeviceShell")).FullName;
            File.WriteAllText(Path.Combine(module, "DeviceShell.psd1"),
                "@{\n ModuleVersion = '1.2.3'\n Author = 'Someone'\n Copyright = '(c) Someone'\n Description = 'A module.'\n CmdletsToExport = @(\n  'Get-Thing'\n )\n}");
            File.WriteAllText(Path.Combine(module, "DeviceShell.dll"), "not really a dll");
            Directory.CreateDirectory(Path.Combine(module, "Lab"));
            File.WriteAllText(Path.Combine(module, "Lab", "DeviceShell.Lab.runtimeconfig.json"), "{}");

            string package = ModulePackager.Package(module, "1.2.3", folder);

            Assert.Equal("DeviceShell.1.2.3.nupkg", Path.GetFileName(package));
            using var zip = ZipFile.OpenRead(package);
            var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
            Assert.Contains("DeviceShell.psd1", entries);
            Assert.Contains("DeviceShell.dll", entries);
            Assert.Contains("Lab/DeviceShell.Lab.runtimeconfig.json", entries);
            Assert.Contains("[Content_Types].xml", entries);
            Assert.Contains("_rels/.rels", entries);

            using var nuspecStream = zip.GetEntry("DeviceShell.nuspec")!.Open();
            var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single();
            string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;
            Assert.Equal("DeviceShell", Value("id"));
            Assert.Equal("1.2.3", Value("version"));
            Assert.Equal("A module.", Value("description"));
            var tags = Value("tags").Split(' ');
            Assert.Contains("PSModule", tags);
            Assert.Contains("PSCmdlet_Get-Thing", tags);
            Assert.Contains("PSCommand_Get-Thing", tags);

            using var typesStream = zip.GetEntry("[Content_Types].xml")!.Open();
            var extensions = XDocument.Load(typesStream).Root!.Elements().Select(e => (string)e.Attribute("Extension")!).ToList();
            Assert.Contains("psd1", extensions);
            Assert.Contains("json", extensions);
            Assert.Contains("dll", extensions);
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }
}
