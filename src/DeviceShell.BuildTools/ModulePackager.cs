using System.IO.Compression;
using System.Security;
using System.Xml.Linq;

namespace DeviceShell.BuildTools;

/// <summary>
/// Packs the staged module as the nupkg PowerShell's repositories use: the module files at the package
/// root, a nuspec whose tags carry PSModule and one PSCmdlet_/PSCommand_ tag per exported cmdlet.
/// </summary>
public static class ModulePackager
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd";

    public static string Package(string module, string version, string outputFolder)
    {
        string manifest = File.ReadAllText(Path.Combine(module, "DeviceShell.psd1"));
        var cmdlets = ModuleManifest.CmdletsToExport(manifest);
        var tags = new List<string> { "PSModule", "PSEdition_Core", "PSIncludes_Cmdlet" };
        tags.AddRange(cmdlets.SelectMany(c => new[] { "PSCmdlet_" + c, "PSCommand_" + c }));

        var nuspec = new XDocument(new XDeclaration("1.0", "utf-8", null),
            new XElement(Nuspec + "package",
                new XElement(Nuspec + "metadata",
                    new XElement(Nuspec + "id", "DeviceShell"),
                    new XElement(Nuspec + "version", version),
                    new XElement(Nuspec + "authors", ModuleManifest.Field(manifest, "Author")),
                    new XElement(Nuspec + "owners", ModuleManifest.Field(manifest, "Author")),
                    new XElement(Nuspec + "requireLicenseAcceptance", "false"),
                    new XElement(Nuspec + "description", ModuleManifest.Field(manifest, "Description")),
                    new XElement(Nuspec + "copyright", ModuleManifest.Field(manifest, "Copyright")),
                    new XElement(Nuspec + "tags", string.Join(' ', tags)))));

        Directory.CreateDirectory(outputFolder);
        string path = Path.Combine(outputFolder, $"DeviceShell.{version}.nupkg");
        File.Delete(path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        var extensions = new SortedSet<string>(StringComparer.OrdinalIgnoreCase) { "rels", "nuspec" };
        AddText(zip, "DeviceShell.nuspec", nuspec.ToString());
        foreach (string file in Directory.EnumerateFiles(module, "*", SearchOption.AllDirectories))
        {
            string entry = Path.GetRelativePath(module, file).Replace('\\', '/');
            zip.CreateEntryFromFile(file, entry, CompressionLevel.Optimal);
            string extension = Path.GetExtension(file).TrimStart('.');
            if (extension.Length > 0) extensions.Add(extension);
        }
        AddText(zip, "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
            "<Relationship Type=\"http://schemas.microsoft.com/packaging/2010/07/manifest\" Target=\"/DeviceShell.nuspec\" Id=\"R1\" /></Relationships>");
        AddText(zip, "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
            string.Concat(extensions.Select(e => $"<Default Extension=\"{SecurityElement.Escape(e)}\" ContentType=\"application/octet\" />")) +
            "</Types>");
        return path;
    }

    private static void AddText(ZipArchive zip, string name, string text)
    {
        using var writer = new StreamWriter(zip.CreateEntry(name).Open());
        writer.Write(text);
    }
}
