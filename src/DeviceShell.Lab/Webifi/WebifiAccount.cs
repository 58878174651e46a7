using System.Text.Json;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// A connect name with its connect password and the networks it may use (what a user sets up on the
/// "Webifi Settings" page of the real service).
/// </summary>
public sealed record WebifiAccount(string ConnectName, string ConnectPassword, IReadOnlyList<string> Networks)
{
    /// <summary>
    /// The sample account of the public protocol page (webifi, pswd, net1/net2) plus the network <c>lab</c>,
    /// which the module's examples and Pester tests use (<c>Send-WebifiData -ToNetwork lab</c>).
    /// </summary>
    public static WebifiAccount Default { get; } = new("webifi", "pswd", new[] { "net1", "net2", "lab" });

    /// <summary>The account with this connect name and password (compared in constant time), or null.</summary>
    public static WebifiAccount? Match(IReadOnlyList<WebifiAccount> accounts, string connectName, string connectPassword) =>
        accounts.FirstOrDefault(a => a.ConnectName == connectName
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(a.ConnectPassword), System.Text.Encoding.UTF8.GetBytes(connectPassword)));

    /// <summary>
    /// Reads <c>[{"connectName":"x","connectPassword":"y","networks":["a","b"]}, ...]</c> (the file given with
    /// <c>--webifi-accounts</c>).
    /// </summary>
    /// <exception cref="FormatException">The file is not such a list.</exception>
    public static IReadOnlyList<WebifiAccount> Load(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var accounts = new List<WebifiAccount>();
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                string name = entry.GetProperty("connectName").GetString() ?? "";
                string password = entry.GetProperty("connectPassword").GetString() ?? "";
                var networks = entry.TryGetProperty("networks", out var list)
                    ? list.EnumerateArray().Select(n => n.GetString() ?? "").Where(n => n.Length > 0).ToArray()
                    : Array.Empty<string>();
                if (name.Length == 0 || password.Length == 0) throw new FormatException("Every account needs a connectName and a connectPassword.");
                accounts.Add(new WebifiAccount(name, password, networks));
            }
            return accounts;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new FormatException($"'{path}' is not a list of Webifi accounts: {ex.Message}", ex);
        }
    }
}
