namespace DeviceShell.BuildTools;

/// <summary>
/// Lays out out/DeviceShell: DeviceShell.psd1 (version stamped), DeviceShell.dll, DeviceShell.format.ps1xml,
/// en-US/DeviceShell.dll-Help.xml and about_DeviceShell.help.txt, Dependencies/ (the engine and every third-party assembly, loaded into the
/// module's own load context) and Lab/ (the simulator host).
/// </summary>
public static class ModuleStager
{
    public const string ModuleAssembly = "DeviceShell.dll";

    /// <summary>The conceptual help topic (Get-Help about_DeviceShell), written as the plain text PowerShell reads.</summary>
    public const string AboutTopic = "about_DeviceShell.help.txt";

    public static void Stage(string repo, string published, string lab, string version, string output)
    {
        if (File.Exists(Path.Combine(published, "System.Management.Automation.dll")) || File.Exists(Path.Combine(lab, "System.Management.Automation.dll")))
            throw new InvalidOperationException("System.Management.Automation.dll was published; PowerShellStandard.Library must stay compile-only.");

        Directory.CreateDirectory(output);
        string dependencies = Directory.CreateDirectory(Path.Combine(output, "Dependencies")).FullName;
        foreach (string file in Directory.EnumerateFiles(published))
        {
            string name = Path.GetFileName(file);
            if (name.Equals(ModuleAssembly, StringComparison.OrdinalIgnoreCase))
                File.Copy(file, Path.Combine(output, name), true);
            else if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                File.Copy(file, Path.Combine(dependencies, name), true);
            // deps.json and pdb files are not used by PowerShell's loader.
        }

        CopyTree(lab, Path.Combine(output, "Lab"));

        string manifest = File.ReadAllText(Path.Combine(repo, "DeviceShell.psd1"));
        File.WriteAllText(Path.Combine(output, "DeviceShell.psd1"), ModuleManifest.StampVersion(manifest, version));

        FormatMerger.Merge(Directory.GetFiles(Path.Combine(repo, "src", "DeviceShell", "Formats"), "*.format.ps1xml"))
            .Save(Path.Combine(output, "DeviceShell.format.ps1xml"));
        File.Copy(Path.Combine(repo, "src", "DeviceShell", "DeviceShell.types.ps1xml"), Path.Combine(output, "DeviceShell.types.ps1xml"), true);

        var exported = ModuleManifest.CmdletsToExport(manifest);
        var pages = exported.Select(name =>
        {
            string page = Path.Combine(repo, "docs", "cmdlets", name + ".md");
            if (!File.Exists(page)) throw new FileNotFoundException($"The cmdlet {name} has no help page.", page);
            return HelpMarkdown.Parse(File.ReadAllText(page));
        }).ToList();
        string help = Directory.CreateDirectory(Path.Combine(output, "en-US")).FullName;
        MamlWriter.Write(pages).Save(Path.Combine(help, ModuleAssembly + "-Help.xml"));
        File.Copy(Path.Combine(repo, "docs", AboutTopic), Path.Combine(help, AboutTopic), true);
    }

    private static void CopyTree(string source, string target)
    {
        foreach (string directory in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(target, Path.GetRelativePath(source, directory)));
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase)) continue;
            File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file)), true);
        }
    }
}
