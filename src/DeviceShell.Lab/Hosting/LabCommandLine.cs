using System.Globalization;
using System.Net;

namespace DeviceShell.Lab.Hosting;

/// <summary>
/// Parses <c>--brick 4223 --brick-secret S --gateway 0 [--bind 127.0.0.1] [--no-stdin] [--ignore-interrupt] [--verbose]</c>.
/// A simulator option takes its port (0 = free); <c>--NAME-SETTING VALUE</c> passes a setting to it.
/// </summary>
public sealed class LabCommandLine
{
    public List<(string Name, int Port, Dictionary<string, string> Settings)> Simulators { get; } = new();

    public IPAddress Bind { get; private set; } = IPAddress.Loopback;

    /// <summary>Ignore stdin (for running detached, where stdin is /dev/null and closes at once).</summary>
    public bool IgnoreStdin { get; private set; }

    /// <summary>
    /// Ignore SIGINT (Ctrl+C). A terminal sends it to its whole foreground process group, so the Ctrl+C that ends a
    /// command in the shell that started the lab would end the lab too; a parent that owns the lab through stdin passes
    /// this, and the lab stops when stdin closes or on SIGTERM.
    /// </summary>
    public bool IgnoreInterrupt { get; private set; }

    public bool Verbose { get; private set; }

    public bool Help { get; private set; }

    /// <summary>
    /// Every <c>--SIMULATOR-SETTING</c> a simulator reads, for --help: (simulator, setting, value and meaning). A test
    /// compares it with the settings the simulators' sources read, so a new setting cannot stay undocumented.
    /// </summary>
    public static IReadOnlyList<(string Simulator, string Setting, string Meaning)> SettingsHelp { get; } =
    [
        ("brick", "secret", "S: authentication secret, at most 64 printable ASCII characters (none: no authentication)"),
        ("brick", "stack", "STACK: empty, default, or ID:UID:CONNECTED-UID:POSITION,... (default: the tutorial stack)"),
        ("gateway", "devices", "N: N generated devices instead of the tutorial's"),
        ("gateway", "reconnect-ms", "MS: how often a device retries its gateway connection"),
        ("gateway", "san", "NAMES: comma-separated DNS names and IPs of the TLS certificate (localhost,127.0.0.1)"),
        ("pibutton", "pin", "LINE: the simulated button's line (8)"),
        ("pibutton", "idle-timeout", "SECONDS: drop a client silent this long, 0 never (30)"),
        ("webifi", "accounts", "FILE: JSON accounts file (the built-in demo account)"),
        ("webifi", "certificate", "FILE|self-signed: serve HTTPS with this PKCS#12 certificate (HTTP)"),
        ("webifi", "certificate-password", "PASSWORD: of the certificate file"),
        ("webifi", "redis", "HOST:PORT: keep sessions and messages in Redis, shared by relays (in memory)"),
        ("webifi", "max-message-bytes", "N: largest payload (1048576)"),
        ("webifi", "session-timeout", "SECONDS: an unused session expires (300)"),
        ("webifi", "max-sessions-per-account", "N: sessions one account may have at once (10000)"),
        ("webifi", "mailbox-capacity", "N: messages waiting per session, oldest dropped past it (10000)"),
        ("webifi", "mailbox-bytes", "N: bytes waiting per session, oldest dropped past it (16777216)"),
        ("webifi", "auth-timeout", "SECONDS: a WebSocket must authenticate within (10)"),
        ("webifi", "startup-grace", "SECONDS: after a start, data for a network nobody listens to yet is kept this long for sessions logging in again (10)"),
        ("webifi", "max-memory", "MB: all mailboxes of the relay together, a send past it gets error 1 (256)"),
        ("webifi", "max-account-memory", "MB: the mailboxes of one account together, a send past it gets error 1 (64)"),
    ];

    /// <summary>The --help text: usage, simulators and, under each, its settings.</summary>
    public static string HelpText(IEnumerable<(string Name, string Description)> simulators)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("Usage: dotnet DeviceShell.Lab.dll [--SIMULATOR PORT [--SIMULATOR-SETTING VALUE]...]... [--bind ADDRESS] [--no-stdin] [--ignore-interrupt] [--verbose]");
        text.AppendLine("PORT 0 picks a free port. A setting may also come from the environment: DEVICESHELL_LAB_BRICK_SECRET for --brick-secret.");
        text.AppendLine("Simulators and their settings (defaults in parentheses):");
        foreach (var (name, description) in simulators.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  --{name,-10} {description}");
            foreach (var setting in SettingsHelp.Where(s => s.Simulator == name))
                text.AppendLine(CultureInfo.InvariantCulture, $"      --{name}-{setting.Setting} {setting.Meaning}");
        }
        text.AppendLine("  --bind ADDRESS  listen on this address (127.0.0.1)");
        text.AppendLine("  --no-stdin      ignore stdin (run detached); otherwise the lab stops when stdin closes");
        text.AppendLine("  --ignore-interrupt  Ctrl+C (SIGINT) does not stop the lab; stdin closing or SIGTERM does");
        text.AppendLine("  --verbose       debug logging on stderr");
        return text.ToString();
    }

    public static LabCommandLine Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> simulatorNames)
    {
        var result = new LabCommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal)) throw new FormatException($"Unexpected argument '{arg}'.");
            string option = arg[2..].ToLowerInvariant();
            switch (option)
            {
                case "help": result.Help = true; continue;
                case "no-stdin": result.IgnoreStdin = true; continue;
                case "ignore-interrupt": result.IgnoreInterrupt = true; continue;
                case "verbose": result.Verbose = true; continue;
                case "bind":
                    string address = Value(args, ref i, arg);
                    result.Bind = IPAddress.TryParse(address, out var ip) ? ip : throw new FormatException($"'{address}' is not an IP address.");
                    continue;
            }
            if (simulatorNames.Contains(option, StringComparer.OrdinalIgnoreCase))
            {
                string text = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "0";
                if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    throw new FormatException($"'{text}' is not a port for --{option} (0 to 65535).");
                if (result.Simulators.Exists(s => s.Name == option)) throw new FormatException($"--{option} is given twice.");
                result.Simulators.Add((option, port, new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)));
                continue;
            }
            string? owner = simulatorNames.FirstOrDefault(n => option.StartsWith(n + "-", StringComparison.OrdinalIgnoreCase));
            if (owner is null) throw new FormatException($"Unknown option '{arg}'.");
            var entry = result.Simulators.Find(s => s.Name.Equals(owner, StringComparison.OrdinalIgnoreCase));
            if (entry.Settings is null) throw new FormatException($"'{arg}' must follow --{owner}.");
            entry.Settings[option[(owner.Length + 1)..]] = Value(args, ref i, arg);
        }
        return result;
    }

    /// <summary>
    /// Adds settings given in the environment (DEVICESHELL_LAB_BRICK_SECRET for --brick-secret): the way a parent
    /// passes secrets, which must not stand on a command line. Settings for simulators that are not started are ignored.
    /// </summary>
    public void AddEnvironmentSettings(System.Collections.IDictionary environment)
    {
        foreach (var (setting, value) in DeviceShell.Engine.Lab.LabSettingsEnvironment.Read(environment))
        {
            var owner = Simulators.Find(s => setting.StartsWith(s.Name + "-", StringComparison.OrdinalIgnoreCase));
            owner.Settings?.TryAdd(setting[(owner.Name.Length + 1)..], value);
        }
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option) =>
        i + 1 < args.Count ? args[++i] : throw new FormatException($"{option} needs a value.");
}
