using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The relay's limits and accounts. From the Lab command line: <c>--webifi-accounts FILE</c> (JSON list, replaces
/// the default account), <c>--webifi-max-message-bytes N</c>, <c>--webifi-session-timeout SECONDS</c>,
/// <c>--webifi-max-sessions-per-account N</c>, <c>--webifi-mailbox-capacity N</c>, <c>--webifi-mailbox-bytes N</c>,
/// <c>--webifi-auth-timeout SECONDS</c>, <c>--webifi-startup-grace SECONDS</c>,
/// <c>--webifi-max-memory MB</c> and <c>--webifi-max-account-memory MB</c> (all mailboxes of the relay, of one account),
/// <c>--webifi-certificate FILE.pfx</c> with <c>--webifi-certificate-password P</c> (serve HTTPS/WSS), or
/// <c>--webifi-certificate self-signed</c> for a certificate made at start (its PEM file is the endpoint's caCertificate),
/// <c>--webifi-redis HOST:PORT</c> (share sessions, networks and delivery with other relays through Redis).
/// </summary>
public sealed class WebifiRelayOptions
{
    /// <summary>The largest payload the relay accepts (one WebSocket message or HTTP body); bigger ones get error 7.</summary>
    public int MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>The largest message on the wire: room for the escapes (a payload of only '~' doubles) and the other fields.</summary>
    public int MaxEncodedBytes => 2 * MaxMessageBytes + 4096;

    /// <summary>Messages a session may have waiting; past that its oldest are dropped.</summary>
    public int MailboxCapacity { get; init; } = 10_000;

    /// <summary>Bytes a session may have waiting; past that its oldest are dropped.</summary>
    public long MailboxBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// Bytes all mailboxes of the relay may hold together (<c>--webifi-max-memory MB</c>); a message past it is not
    /// queued and its sender gets error 1 (see <see cref="MailboxMemory"/>).
    /// </summary>
    public long MaxMemoryBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Bytes the mailboxes of one account's sessions on this relay may hold together (<c>--webifi-max-account-memory MB</c>).</summary>
    public long MaxAccountMemoryBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>A session with no WebSocket and no download for this long expires (error 12 afterwards).</summary>
    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a /Download is held when the client asks for no other time (<c>~t</c>).</summary>
    public TimeSpan DefaultHold { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>The longest hold a client may ask for (the Python library's own maximum).</summary>
    public TimeSpan MaxHold { get; init; } = TimeSpan.FromSeconds(1800);

    /// <summary>See <see cref="RelayRouter"/>: network data parked for clients logging in again after a restart.</summary>
    public TimeSpan StartupGrace { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a WebSocket may take to authenticate (send a known device id) before the relay closes it.</summary>
    public TimeSpan AuthenticationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest message a WebSocket may send before it has authenticated (an auth message is ~40 bytes).</summary>
    public int MaxUnauthenticatedBytes { get; init; } = 4096;

    /// <summary>The largest credentials request body (<c>POST /</c>), read before anyone is authenticated.</summary>
    public int MaxCredentialsBytes { get; init; } = 4096;

    /// <summary>
    /// Logged-in sessions one account may have at once. At the cap a login ends the account's oldest session that has
    /// no WebSocket and no held download; when every one is in use, the login is refused with error 1 (try later).
    /// </summary>
    public int MaxSessionsPerAccount { get; init; } = 10_000;

    /// <summary>Failed logins per client address or account before attempts are spaced out (see <see cref="LoginThrottle"/>).</summary>
    public int FreeLoginFailures { get; init; } = 5;

    /// <summary>The first spacing between throttled login attempts; it doubles with every further failure.</summary>
    public TimeSpan LoginDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>The largest spacing between throttled login attempts.</summary>
    public TimeSpan MaxLoginDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A throttled attempt whose turn is further away than this is answered at once with error 1.</summary>
    public TimeSpan MaxLoginWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long failed logins are remembered after the last one.</summary>
    public TimeSpan LoginFailureMemory { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Bytes of data parked during <see cref="StartupGrace"/>, over all networks.</summary>
    public long MaxParkedBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>When set, the relay serves HTTPS and WSS with this certificate.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>
    /// <c>HOST:PORT</c> of a Redis server shared with other relays (see <see cref="RedisRelayRouter"/>); null: this process
    /// alone holds every session, with no Redis dependency.
    /// </summary>
    public string? Redis { get; init; }

    public IReadOnlyList<WebifiAccount> Accounts { get; init; } = new[] { WebifiAccount.Default };

    /// <summary>Options from the Lab's <c>--webifi-*</c> settings.</summary>
    /// <exception cref="ArgumentException">A setting is malformed (the Lab host reports it and exits).</exception>
    public static WebifiRelayOptions From(LabSimulatorOptions options)
    {
        try
        {
            return Read(options);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException(ex.Message, ex);
        }
    }

    private static WebifiRelayOptions Read(LabSimulatorOptions options)
    {
        var defaults = new WebifiRelayOptions();
        string? accounts = options.Setting("accounts");
        string? certificate = options.Setting("certificate");
        return new WebifiRelayOptions
        {
            Accounts = accounts is null ? defaults.Accounts : WebifiAccount.Load(accounts),
            MaxMessageBytes = Number(options, "max-message-bytes") is double bytes ? (int)bytes : defaults.MaxMessageBytes,
            SessionTimeout = Number(options, "session-timeout") is double seconds ? TimeSpan.FromSeconds(seconds) : defaults.SessionTimeout,
            MaxSessionsPerAccount = Number(options, "max-sessions-per-account") is double sessions ? (int)sessions : defaults.MaxSessionsPerAccount,
            MailboxCapacity = Number(options, "mailbox-capacity") is double mailbox ? (int)mailbox : defaults.MailboxCapacity,
            MailboxBytes = Number(options, "mailbox-bytes") is double mailboxBytes ? (long)mailboxBytes : defaults.MailboxBytes,
            MaxMemoryBytes = Number(options, "max-memory") is double relayMegabytes ? (long)(relayMegabytes * 1024 * 1024) : defaults.MaxMemoryBytes,
            MaxAccountMemoryBytes = Number(options, "max-account-memory") is double accountMegabytes ? (long)(accountMegabytes * 1024 * 1024) : defaults.MaxAccountMemoryBytes,
            AuthenticationTimeout = Number(options, "auth-timeout") is double authSeconds ? TimeSpan.FromSeconds(authSeconds) : defaults.AuthenticationTimeout,
            StartupGrace = Number(options, "startup-grace") is double graceSeconds ? TimeSpan.FromSeconds(graceSeconds) : defaults.StartupGrace,
            Redis = options.Setting("redis") is string redis ? RedisEndpoint(redis) : null,
            Certificate = certificate switch
            {
                null => null,
                "self-signed" => CreateSelfSignedCertificate(),
                _ => new X509Certificate2(certificate, options.Setting("certificate-password")),
            },
        };
    }

    /// <summary>A certificate for IP 127.0.0.1 and DNS localhost, valid for a week, with its private key.</summary>
    public static X509Certificate2 CreateSelfSignedCertificate()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new CertificateRequest("CN=DeviceShell Webifi relay", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(7));
        // Through PKCS#12 so that Kestrel can use the key on every platform.
        return new X509Certificate2(created.Export(X509ContentType.Pfx));
    }

    private static string RedisEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        return colon > 0 && int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? text
            : throw new FormatException($"--webifi-redis needs HOST:PORT of a Redis server, not '{text}'.");
    }

    private static double? Number(LabSimulatorOptions options, string name)
    {
        string? text = options.Setting(name);
        if (text is null) return null;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : throw new FormatException($"--webifi-{name} needs a positive number, not '{text}'.");
    }
}
