using System.Globalization;
using System.Text;

namespace DeviceShell.Engine.Sessions;

/// <summary>
/// What a log line may carry of text a peer chose (connect names, message payloads, paths): a short, quoted excerpt
/// with every control character escaped. A peer must not be able to fill the log, forge log lines with newlines, or
/// drive the operator's terminal with ANSI escape sequences.
/// </summary>
internal static class LogText
{
    /// <summary>Characters of peer text a log line carries before it is cut.</summary>
    public const int DefaultMaxChars = 64;

    /// <summary>
    /// The text in double quotes, control characters (C0, DEL, C1) and quotes escaped as \n, \t, \" or \u001b, cut
    /// after <paramref name="maxChars"/> characters with the full length appended (e.g. <c>"abc"… (1048576 chars)</c>).
    /// </summary>
    public static string Quote(string? text, int maxChars = DefaultMaxChars)
    {
        if (text is null) return "(null)";
        string quoted = Excerpt(text, maxChars);
        return text.Length > maxChars ? $"{quoted}… ({text.Length} chars)" : quoted;
    }

    /// <summary>Bytes from the wire, decoded leniently as UTF-8 and quoted; only the first bytes are decoded.</summary>
    public static string Quote(ReadOnlySpan<byte> bytes, int maxChars = DefaultMaxChars)
    {
        // UTF-8 needs at most 4 bytes per character; decoding more than that would only be thrown away.
        var head = bytes[..Math.Min(bytes.Length, maxChars * 4)];
        string text = Encoding.UTF8.GetString(head);
        string quoted = Excerpt(text, maxChars);
        return head.Length < bytes.Length || text.Length > maxChars ? $"{quoted}… ({bytes.Length} bytes)" : quoted;
    }

    private static string Excerpt(string text, int maxChars)
    {
        int shown = Math.Min(text.Length, maxChars);
        var builder = new StringBuilder(shown + 8);
        builder.Append('"');
        for (int i = 0; i < shown; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\n': builder.Append("\\n"); break;
                case '\r': builder.Append("\\r"); break;
                case '\t': builder.Append("\\t"); break;
                case '"': builder.Append("\\\""); break;
                case '\\': builder.Append("\\\\"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029') builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else builder.Append(c);
                    break;
            }
        }
        return builder.Append('"').ToString();
    }
}
