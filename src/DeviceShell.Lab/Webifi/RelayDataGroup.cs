using DeviceShell.Engine.Webifi;

namespace DeviceShell.Lab.Webifi;

/// <summary>One data group of a client message: where it goes and what it carries (n/s/dt reset after each d).</summary>
/// <param name="MessageId">The sender's number for the message (<c>~u</c>, see WebifiMessageId), passed on as it is.</param>
internal sealed record RelayDataGroup(IReadOnlyList<string> Networks, IReadOnlyList<string> SessionIds, string DataType, byte[] Data, string? MessageId = null)
{
    /// <summary>Reads every <c>[~n…][~s…][~dt][~u]~d</c> group of a message, ignoring other keys (id, z, t).</summary>
    public static List<RelayDataGroup> Parse(IReadOnlyList<TildeField> fields)
    {
        var groups = new List<RelayDataGroup>();
        var networks = new List<string>();
        var sessions = new List<string>();
        string dataType = "";
        string? messageId = null;
        foreach (var field in fields)
        {
            switch (field.Key)
            {
                case "n": if (field.Value.Length > 0) networks.Add(field.Text); break;
                case "s": if (field.Value.Length > 0) sessions.Add(field.Text); break;
                case "dt": dataType = field.Text; break;
                // Longer ids are not DeviceShell's: not passed on, so a peer cannot make every delivery heavier.
                case "u": messageId = field.Value.Length <= WebifiMessageId.MaxLength ? field.Text : null; break;
                case "d":
                    groups.Add(new RelayDataGroup(networks.ToArray(), sessions.ToArray(), dataType, field.Value, messageId));
                    networks.Clear();
                    sessions.Clear();
                    dataType = "";
                    messageId = null;
                    break;
            }
        }
        return groups;
    }

    /// <summary>
    /// A message the relay answers with 7 without routing it: no data, or a payload over
    /// <see cref="WebifiRelayOptions.MaxMessageBytes"/> (the one check for both transports and both routers).
    /// </summary>
    public static bool AreUnroutable(IReadOnlyList<RelayDataGroup> groups, WebifiRelayOptions options) =>
        groups.Count == 0 || groups.Any(g => g.Data.Length > options.MaxMessageBytes);
}
