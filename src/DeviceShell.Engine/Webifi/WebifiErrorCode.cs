using System.Globalization;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// The Webifi error codes (docs/design/webifi.md §5.1) and the description table the relay sends after a
/// credentials request with <c>~ec=1</c>. The real service's wording is unknown; these are our own.
/// </summary>
public static class WebifiErrorCode
{
    public const int Success = 0;
    public const int Unknown = 1;
    public const int NotDelivered = 2;
    public const int InvalidServerData = 3;
    public const int NetworksSet = 4;
    public const int NotAllNetworksSet = 5;
    public const int ProtocolError = 7;
    public const int InvalidCredentials = 8;
    public const int SetterRefused = 10;
    public const int SessionExpired = 12;
    public const int DownloadCancelled = 15;
    public const int NoData = 16;
    public const int DuplicateDownload = 18;
    public const int ConnectionFailed = 20;

    /// <summary>Where the official libraries send people when a code is not in the server's table.</summary>
    public const string FallbackText = "Check https://www.webifi.me/error-codes/ for error codes";

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

    public static string ToWire(int code) => code.ToString(CultureInfo.InvariantCulture);
}
