namespace DeviceShell.Bench;

/// <summary>
/// The peers measured beside DeviceShell where they are installed: the official Tinkerforge JavaScript bindings (npm
/// tinkerforge, installed by the bench into its cache), and Debian's Python 3 with grpcio and websocket-client.
/// Each check returns null when the peer can run, or the one line that says what to install.
/// </summary>
public static class Peers
{
    public const string Python = "/usr/bin/python3";
    public const string TinkerforgeVersion = "2.1.35";
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>The folder holding node_modules/tinkerforge, or null with the reason.</summary>
    public static async Task<(string? Folder, string? Why)> TinkerforgeAsync(Bench bench)
    {
        await InstallGate.WaitAsync().ConfigureAwait(false);
        try
        {
            string folder = Path.Combine(bench.Cache, "npm");
            if (File.Exists(Path.Combine(folder, "node_modules", "tinkerforge", "package.json"))) return (folder, null);
            Directory.CreateDirectory(folder);
            try
            {
                await Bench.RunAsync("npm", new[] { "install", "--no-audit", "--no-fund", "--prefix", folder, "tinkerforge@" + TinkerforgeVersion },
                    TimeSpan.FromMinutes(3), folder).ConfigureAwait(false);
                return (folder, null);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or TimeoutException)
            {
                return (null, $"needs node and npm (apt-get install nodejs npm) and npm tinkerforge {TinkerforgeVersion}: {ex.Message}");
            }
        }
        finally
        {
            InstallGate.Release();
        }
    }

    /// <summary>Null when Debian's python3 can import <paramref name="module"/>, else what to install.</summary>
    public static async Task<string?> PythonModuleMissingAsync(string module, string package)
    {
        try
        {
            await Bench.RunAsync(Python, new[] { "-c", "import " + module }, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"needs Debian's {package} (apt-get install {package})";
        }
    }
}
