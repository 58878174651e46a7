using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;
using DeviceShell.Testing;

// usage: ModuleHost <module folder>; prints "engine-context|engine-location|objects|errors" and exits 0,
// or prints the failure and exits 1.
try
{
    var module = Assembly.LoadFrom(Path.Combine(args[0], "DeviceShell.dll"));
    // PowerShell reads every exported type before it calls the module initializer.
    Type[] types;
    try
    {
        types = module.GetExportedTypes();
    }
    catch (FileNotFoundException)
    {
        // Name the types that need the engine before import, for the failure message.
        using var reader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(module.Location));
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        var failing = new List<string>();
        foreach (var handle in metadata.TypeDefinitions)
        {
            var definition = metadata.GetTypeDefinition(handle);
            string name = metadata.GetString(definition.Namespace) + "." + metadata.GetString(definition.Name);
            try { module.GetType(name, throwOnError: false); }
            catch (FileNotFoundException) { failing.Add(name); }
        }
        throw new InvalidOperationException("These exported types need the engine before import: " + string.Join(", ", failing));
    }
    foreach (var type in types.Where(t => typeof(IModuleAssemblyInitializer).IsAssignableFrom(t) && !t.IsAbstract))
        ((IModuleAssemblyInitializer)Activator.CreateInstance(type)!).OnImport();

    var cmdlet = (Cmdlet)Activator.CreateInstance(module.GetType("DeviceShell.Commands.GetDeviceSessionCommand", throwOnError: true)!)!;
    var run = CmdletHarness.Invoke(cmdlet);
    var engine = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == "DeviceShell.Engine");
    Console.WriteLine($"{AssemblyLoadContext.GetLoadContext(engine)!.Name}|{engine.Location}|{run.Objects.Count}|{run.Errors.Count}");
    return 0;
}
catch (Exception ex)
{
    Console.WriteLine($"FAILED {ex}");
    return 1;
}
