using System.Buffers;
using System.Globalization;
using DeviceShell.Engine.Webifi;
using StackExchange.Redis;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// The arguments of one route.lua call: the data groups of a read, cut into segments of consecutive groups addressed
/// alike, each segment's groups in one string (<see cref="StreamMessages"/>), so the script works out a segment's
/// recipients once and stores its string whole instead of walking one argument per group.
/// </summary>
internal sealed class RedisRouteCall(RelaySession from)
{
    private readonly ArrayBufferWriter<byte> _messages = new();
    private readonly List<Segment> _segments = [];
    /// <summary>The message each group sent belongs to, in order.</summary>
    private readonly List<int> _messageOf = [];
    private IReadOnlyList<string>? _sessionNetworks;
    /// <summary>The addressing of the group in hand, kept as a new segment's only when it differs from the last one's.</summary>
    private readonly List<string> _networks = [];
    private readonly List<int> _ids = [];

    /// <summary>Where a segment goes and which bytes of <see cref="_messages"/> are its groups.</summary>
    private sealed record Segment(List<string> Networks, List<int> Ids, int Start)
    {
        public int Groups { get; set; }

        public long Bytes { get; set; }

        public int End { get; set; }

        public bool AddressedAs(List<string> networks, List<int> ids) => Networks.SequenceEqual(networks, StringComparer.Ordinal) && Ids.SequenceEqual(ids);
    }

    /// <summary>Adds a group of message <paramref name="message"/>; false when part of it cannot be delivered (a network the account lacks, a malformed id).</summary>
    public bool Add(int message, RelayDataGroup group)
    {
        bool whole = true;
        IEnumerable<string> addressed = group.Networks.Count == 0 && group.SessionIds.Count == 0 ? _sessionNetworks ??= [.. from.Networks] : group.Networks;
        _networks.Clear();
        foreach (string network in addressed)
        {
            if (!from.Account.Networks.Contains(network, StringComparer.Ordinal)) whole = false;
            else if (!_networks.Contains(network, StringComparer.Ordinal)) _networks.Add(network);
        }
        _ids.Clear();
        foreach (string text in group.SessionIds)
        {
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int id)) _ids.Add(id);
            else whole = false;
        }
        if (_segments.Count == 0 || !_segments[^1].AddressedAs(_networks, _ids)) _segments.Add(new Segment([.. _networks], [.. _ids], _messages.WrittenCount));
        var segment = _segments[^1];
        StreamMessages.Append(_messages, group);
        segment.Groups++;
        segment.Bytes += group.Data.Length;
        segment.End = _messages.WrittenCount;
        _messageOf.Add(message);
        return whole;
    }

    /// <summary>The script's arguments (see route.lua).</summary>
    public RedisValue[] Arguments(int streamLength, long unreadBytesCap, long keyLifetimeMs, long readingRecentlyMs)
    {
        var values = new List<RedisValue>(7 + 6 * _segments.Count)
        {
            from.Id, from.DeviceId, streamLength, unreadBytesCap, keyLifetimeMs, readingRecentlyMs, _segments.Count,
        };
        var written = _messages.WrittenMemory;
        foreach (var segment in _segments)
        {
            values.Add(segment.Networks.Count);
            foreach (string network in segment.Networks) values.Add(network);
            values.Add(segment.Ids.Count);
            foreach (int id in segment.Ids) values.Add(id);
            values.Add(segment.Groups);
            values.Add(segment.Bytes);
            values.Add(written[segment.Start..segment.End]);
        }
        return [.. values];
    }

    /// <summary>
    /// Folds the script's flag per group ('0' stored, bit 1 not stored for some recipient, bit 2 an unknown session id)
    /// into the messages' codes: 2 for an unknown id, else 1 when some recipient had no room (as on one relay).
    /// </summary>
    public void ApplyFlags(string flags, int[] codes)
    {
        var cut = new bool[codes.Length];
        for (int g = 0; g < flags.Length && g < _messageOf.Count; g++)
        {
            int flag = flags[g] - '0', message = _messageOf[g];
            if ((flag & 2) != 0) codes[message] = Math.Max(codes[message], WebifiErrorCode.NotDelivered);
            if ((flag & 1) != 0) cut[message] = true;
        }
        for (int m = 0; m < codes.Length; m++)
        {
            if (cut[m] && codes[m] == WebifiErrorCode.Success) codes[m] = WebifiErrorCode.Unknown;
        }
    }
}
