using System.Reflection;

namespace DeviceShell.Tests;

/// <summary>
/// What the build stamped into the test assembly (tests/Directory.Build.props): where the repository is and which
/// configuration was built. The one place tests find docs, the staged module and the built projects from.
/// </summary>
internal static class TestRepository
{
    public static string Root { get; } = Metadata("RepoRoot");

    public static string Configuration { get; } = Metadata("Configuration");

    /// <summary>A value the build stamped as <see cref="AssemblyMetadataAttribute"/> into the assembly this file is compiled into.</summary>
    public static string Metadata(string key) =>
        typeof(TestRepository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>A path inside the repository.</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
