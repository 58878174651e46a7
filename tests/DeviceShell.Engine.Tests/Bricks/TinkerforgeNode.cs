using DeviceShell.Engine.Tests.Gateway;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// The official Tinkerforge JavaScript bindings (npm tinkerforge 2.1.35) under node, installed once per machine into
/// a cache folder under the temp directory, as the reference client for the simulated Brick Daemon.
/// </summary>
internal static class TinkerforgeNode
{
    public const string Package = "tinkerforge@2.1.35";

    private static readonly Lazy<string?> Missing = new(Install);

    public static string? MissingReason => Missing.Value;

    /// <summary>The folder holding node_modules/tinkerforge.</summary>
    public static string Prefix { get; } = Path.Combine(Path.GetTempPath(), "deviceshell-npm", Package.Replace('@', '-'));

    public static string Script(string name) => Path.Combine(TestRepository.Root, "tests", "DeviceShell.Engine.Tests", "Bricks", "Interop", name);

    public static (int Code, string Output, string Error) Node(IEnumerable<string> arguments, TimeSpan timeout) => PythonGrpc.Run("node", arguments, timeout);

    private static string? Install()
    {
        var (code, _, error) = PythonGrpc.Run("node", new[] { "--version" }, TimeSpan.FromSeconds(20));
        if (code != 0) return $"node is not installed ({error.Trim()}); install nodejs and npm.";
        if (File.Exists(Path.Combine(Prefix, "node_modules", "tinkerforge", "package.json"))) return null;
        // Installed beside the cache folder and moved into place, so test runs in parallel never see half an install.
        string staging = Prefix + ".staging-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        var (npmCode, output, npmError) = PythonGrpc.Run("npm", new[] { "install", "--prefix", staging, "--no-audit", "--no-fund", Package }, TimeSpan.FromMinutes(3));
        if (npmCode != 0) return $"npm install {Package} failed ({npmCode}): {(npmError + output).Trim()}";
        try
        {
            Directory.Move(staging, Prefix);
        }
        catch (IOException) when (Directory.Exists(Prefix))
        {
            // Another run finished its install first; use that one.
            Directory.Delete(staging, recursive: true);
        }
        return null;
    }
}

/// <summary>A fact that is skipped, with the reason, when node, npm or the npm package are not available.</summary>
public sealed class TinkerforgeNodeFactAttribute : FactAttribute
{
    public TinkerforgeNodeFactAttribute()
    {
        if (TinkerforgeNode.MissingReason is { } reason) Skip = $"needs npm: {reason}";
    }
}
