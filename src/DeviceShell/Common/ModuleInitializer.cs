using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace DeviceShell.Commands;

/// <summary>
/// Loads DeviceShell.Engine and everything it depends on (Google.Protobuf, ...) from the module's
/// Dependencies/ folder into a load context of their own, so another module's copy of a dependency can
/// neither break DeviceShell nor be broken by it (docs/design/powershell-style.md §7, the bridge pattern).
/// Only the engine is resolved from the default context; its own references stay inside the private context.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    internal const string EngineAssemblyName = "DeviceShell.Engine";

    private static readonly string DependencyFolder =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleInitializer).Assembly.Location)!, "Dependencies");

    private static readonly DependencyLoadContext Dependencies = new(DependencyFolder);

    public void OnImport() => AssemblyLoadContext.Default.Resolving += ResolveEngine;

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= ResolveEngine;

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineAssemblyName ? Dependencies.LoadFromAssemblyName(name) : null;

    /// <summary>The private context: anything found in Dependencies/ is loaded here, the rest from the host.</summary>
    private sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;

        public DependencyLoadContext(string folder) : base("DeviceShell") => _folder = folder;

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string path = Path.Combine(_folder, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
