using System.Globalization;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The Webifi error codes (docs/design/webifi.md §5.1) and the description table the relay sends after a
/// credentials request with <c>~ec=1</c>. The real service's wording is unknown; these are our own.
/// </summary>
public static class WebifiErrorCode
{
    /// <summary>0: the request succeeded.</summary>
    public const int Success = 0;
    /// <summary>1: an error without a more specific code.</summary>
    public const int Unknown = 1;
    /// <summary>2: data could not be delivered to one or more recipients.</summary>
    public const int NotDelivered = 2;
    /// <summary>3: the server's answer could not be read.</summary>
    public const int InvalidServerData = 3;
    /// <summary>4: every listen-to network was set (a success report).</summary>
    public const int NetworksSet = 4;
    /// <summary>5: some listen-to networks were not set: the connect name has no network of that name.</summary>
    public const int NotAllNetworksSet = 5;
    /// <summary>7: a request or answer broke the protocol.</summary>
    public const int ProtocolError = 7;
    /// <summary>8: the connect name or password was refused at login.</summary>
    public const int InvalidCredentials = 8;
    /// <summary>10: the connect name or password cannot be changed after start.</summary>
    public const int SetterRefused = 10;
    /// <summary>12: the relay does not know the session id (invalid or expired).</summary>
    public const int SessionExpired = 12;
    /// <summary>15: a long-polling download request was cancelled.</summary>
    public const int DownloadCancelled = 15;
    /// <summary>16: no data was available.</summary>
    public const int NoData = 16;
    /// <summary>18: several download requests came with the same session id.</summary>
    public const int DuplicateDownload = 18;
    /// <summary>20: no connection to the server could be established.</summary>
    public const int ConnectionFailed = 20;

    /// <summary>Where the official libraries send people when a code is not in the server's table.</summary>
    public const string FallbackText = "Check https://www.webifi.me/error-codes/ for error codes";

    /// <summary>Our own description of every code above (the relay's table when it sends none); the Lab relay serves this table.</summary>
    public static IReadOnlyDictionary<int, string> DefaultDescriptions { get; } = new SortedDictionary<int, string>
    {
        [Success] = "Success",
        [Unknown] = "Unknown error",
        [NotDelivered] = "Data could not be sent to one or more recipients",
        [InvalidServerData] = "Invalid data received from the server",
        [NetworksSet] = "All listen-to networks were set",
        [NotAllNetworksSet] = "Not all of the listen-to networks were set (unknown network names for this connect name)",
        [ProtocolError] = "Protocol error",
        [InvalidCredentials] = "Invalid connect name or connect password",
        [SetterRefused] = "The connect name or password cannot be changed after start",
        [SessionExpired] = "Invalid or expired session id",
        [DownloadCancelled] = "Download request cancelled",
        [NoData] = "No data available",
        [DuplicateDownload] = "Multiple download requests with the same session id",
        [ConnectionFailed] = "Could not establish a connection to the server",
    };

    /// <summary>The description from <paramref name="table"/> (the server's), else the generic fallback text.</summary>
    public static string Describe(int code, IReadOnlyDictionary<int, string>? table) =>
        table is not null && table.TryGetValue(code, out string? text) ? text : FallbackText;

    /// <summary>The code as the tilde protocol writes it (invariant decimal).</summary>
    internal static string ToWire(int code) => code.ToString(CultureInfo.InvariantCulture);
}
