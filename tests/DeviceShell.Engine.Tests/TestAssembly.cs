using System.Reflection;

namespace DeviceShell.Engine.Tests;

/// <summary>What the build stamped into this test assembly: where the repository is and which configuration was built.</summary>
internal static class TestAssembly
{
    public static string RepoRoot { get; } = Metadata("RepoRoot");

    public static string Configuration { get; } = Metadata("Configuration");

    public static string Metadata(string key) =>
        typeof(TestAssembly).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
