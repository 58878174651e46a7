using DeviceShell.BuildTools;

// Called by Module.targets; not meant for people (use build.ps1 or build.sh).
//   stage   --repo R --published P --lab L --version V --out O
//   test    --repo R --configuration C --pester PATH/Pester.psd1
if (args.Length == 0) return Usage();
var options = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 1; i + 1 < args.Length; i += 2) options[args[i].TrimStart('-')] = args[i + 1];
string Option(string name) => options.TryGetValue(name, out string? value) ? value : throw new ArgumentException($"--{name} is missing.");

try
{
    switch (args[0])
    {
        case "stage":
            ModuleStager.Stage(Option("repo"), Option("published"), Option("lab"), Option("version"), Option("out"));
            Console.WriteLine($"Staged {Option("out")}");
            return 0;
        case "test":
            return TestRunner.Run(Option("repo"), Option("configuration"), Option("pester"));
        default:
            return Usage();
    }
}
catch (Exception ex) when (ex is ArgumentException or IOException or FormatException or InvalidOperationException or System.Xml.XmlException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: DeviceShell.BuildTools stage --repo R --published P --lab L --version V --out O | test --repo R --configuration C --pester PATH/Pester.psd1");
    return 2;
}
