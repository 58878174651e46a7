using System.Globalization;
using System.Text;

namespace DeviceShell.Engine.Webifi;

/// <summary>One <c>~key=value</c> field. Keys are short ASCII tokens; values are opaque bytes.</summary>
internal readonly record struct TildeField(string Key, byte[] Value)
{
    /// <summary>The value read as UTF-8 (every textual value DeviceShell sends is UTF-8).</summary>
    public string Text => Encoding.UTF8.GetString(Value);

    public override string ToString() => $"~{Key}={Text}";
}

/// <summary>
/// The Webifi "tilde" encoding (docs/design/webifi.md §2): a message is a sequence of <c>~key=value</c> fields;
/// inside a value a literal <c>~</c> is written <c>~~</c> and a NUL byte <c>~-</c>; nothing else is escaped.
/// Deliberate differences from the Python library's decoder, so every payload round-trips:
/// <list type="bullet">
/// <item>an empty value at the very end (<c>…~d=</c>) is kept, not dropped (an empty payload is a message);</item>
/// <item>a key without <c>=</c> is a <see cref="FormatException"/> instead of silently ending the parse;</item>
/// <item>the WebSocket terminator is found escape-aware (<see cref="TildeFramer"/>), so data containing <c>~t=1</c> survives.</item>
/// </list>
/// Textual values (networks, data types, ids) are UTF-8; payloads are bytes and pass through untouched.
/// </summary>
internal static class TildeCodec
{
    public const byte Control = (byte)'~';

    /// <summary>The WebSocket end-of-message field.</summary>
    public static ReadOnlySpan<byte> Terminator => "~t=1"u8;

    /// <summary>Appends <c>~key=</c> and the escaped value.</summary>
    public static void AppendField(List<byte> output, string key, ReadOnlySpan<byte> value)
    {
        output.Add(Control);
        foreach (char c in key) output.Add(checked((byte)c));
        output.Add((byte)'=');
        foreach (byte b in value)
        {
            if (b == Control) { output.Add(Control); output.Add(Control); }
            else if (b == 0) { output.Add(Control); output.Add((byte)'-'); }
            else output.Add(b);
        }
    }

    public static void AppendField(List<byte> output, string key, string value) => AppendField(output, key, Encoding.UTF8.GetBytes(value));

    public static void AppendField(List<byte> output, string key, long value) => AppendField(output, key, value.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// Splits one message (without the WebSocket terminator) into its fields, in order. Each value is measured first
    /// and unescaped straight into an array of its exact size, so decoding costs about the message's own size in
    /// memory (docs/design/decisions.md §25.8: an 8 MiB answer went through a growing list per byte), and common keys are not allocated.
    /// </summary>
    /// <exception cref="FormatException">The input does not start with <c>~</c>, or a key has no <c>=</c>.</exception>
    public static List<TildeField> Decode(ReadOnlySpan<byte> message)
    {
        var fields = new List<TildeField>();
        if (message.IsEmpty) return fields;
        if (message[0] != Control) throw new FormatException("A Webifi message must start with '~'.");
        int i = 1;
        while (true)
        {
            int equals = message[i..].IndexOf((byte)'=');
            if (equals < 0) throw new FormatException("A Webifi field has no '='.");
            var keySpan = message.Slice(i, equals);
            if (keySpan.IndexOf(Control) >= 0) throw new FormatException("A Webifi key contains '~'.");
            string key = KeyOf(keySpan);
            i += equals + 1;
            int end = ValueEnd(message, i, out int escapes);
            fields.Add(new TildeField(key, Unescape(message[i..end], escapes)));
            if (end == message.Length) break;
            i = end + 1; // the lone '~' that starts the next key
            if (i == message.Length) throw new FormatException("A Webifi message ends with a lone '~'.");
        }
        return fields;
    }

    /// <summary>Where the value starting at <paramref name="start"/> ends: at the next lone <c>~</c>, or the end.</summary>
    private static int ValueEnd(ReadOnlySpan<byte> message, int start, out int escapes)
    {
        escapes = 0;
        int i = start;
        while (true)
        {
            int control = message[i..].IndexOf(Control);
            if (control < 0) return message.Length;
            i += control;
            if (i + 1 < message.Length && message[i + 1] is Control or (byte)'-')
            {
                escapes++;
                i += 2;
                continue;
            }
            return i;
        }
    }

    private static byte[] Unescape(ReadOnlySpan<byte> escaped, int escapes)
    {
        if (escaped.IsEmpty) return Array.Empty<byte>();
        var value = new byte[escaped.Length - escapes];
        int written = 0;
        while (!escaped.IsEmpty)
        {
            int control = escaped.IndexOf(Control);
            if (control < 0)
            {
                escaped.CopyTo(value.AsSpan(written));
                break;
            }
            escaped[..control].CopyTo(value.AsSpan(written));
            written += control;
            value[written++] = escaped[control + 1] == Control ? Control : (byte)0;
            escaped = escaped[(control + 2)..];
        }
        return value;
    }

    /// <summary>The key as a string; the protocol's own keys come from the literals instead of a new string per field.</summary>
    private static string KeyOf(ReadOnlySpan<byte> key) => key switch
    {
        [(byte)'d'] => "d",
        [(byte)'e'] => "e",
        [(byte)'f'] => "f",
        [(byte)'n'] => "n",
        [(byte)'s'] => "s",
        [(byte)'u'] => "u",
        [(byte)'z'] => "z",
        [(byte)'d', (byte)'t'] => "dt",
        [(byte)'r', (byte)'t'] => "rt",
        [(byte)'i', (byte)'d'] => "id",
        _ => Encoding.ASCII.GetString(key),
    };

    /// <summary>The first value of <paramref name="key"/> as text, or null.</summary>
    public static string? Find(this IReadOnlyList<TildeField> fields, string key)
    {
        foreach (var field in fields)
            if (field.Key == key) return field.Text;
        return null;
    }

    /// <summary>The first value of <paramref name="key"/> as an integer, or null when absent or not a number.</summary>
    public static int? FindInt(this IReadOnlyList<TildeField> fields, string key) =>
        int.TryParse(fields.Find(key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number) ? number : null;

    public static IEnumerable<string> FindAll(this IReadOnlyList<TildeField> fields, string key) =>
        fields.Where(f => f.Key == key).Select(f => f.Text);

    /// <summary>A short printable form for logs: payload values are replaced by their length.</summary>
    public static string Summarize(IReadOnlyList<TildeField> fields) =>
        string.Concat(fields.Select(f => f.Key == "d" ? $"~d=<{f.Value.Length} bytes>" : f.Key is "cp" ? "~cp=***" : f.ToString()));
}

/// <summary>
/// Cuts a WebSocket byte stream into messages at the <c>~t=1</c> terminator field. Frame boundaries do not
/// matter. Unlike the Python library (which cuts at the first <c>~t=1</c> substring), the scan skips escapes,
/// so a payload <c>~t=1</c> (on the wire <c>~~t=1</c>) is never mistaken for the end.
/// </summary>
internal sealed class TildeFramer
{
    /// <summary>What an idle framer keeps: a larger buffer, grown for a large message, is let go once it is empty.</summary>
    private const int IdleCapacity = 4 * 1024;

    private byte[] _buffer = Array.Empty<byte>();
    private int _start;
    private int _end;
    private int _scanned;

    public TildeFramer(int maxMessageBytes) => MaxMessageBytes = maxMessageBytes;

    /// <summary>The size limit of one message; a relay raises it once a WebSocket has authenticated.</summary>
    public int MaxMessageBytes { get; set; }

    /// <summary>Bytes held that do not form a complete message yet.</summary>
    public int Pending => _end - _start;

    /// <exception cref="InvalidDataException">A message grew beyond the size limit.</exception>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_end + bytes.Length > _buffer.Length) MakeRoom(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_end));
        _end += bytes.Length;
        if (Pending > MaxMessageBytes + TildeCodec.Terminator.Length && IndexOfTerminator(peek: true) < 0)
            throw new InvalidDataException($"A Webifi message is larger than {MaxMessageBytes} bytes.");
    }

    /// <summary>Takes the next complete message without its terminator (an empty array for a bare keep-alive).</summary>
    public bool TryTake(out byte[] message)
    {
        int end = IndexOfTerminator(peek: false);
        if (end < 0)
        {
            message = Array.Empty<byte>();
            return false;
        }
        // Messages are taken from the front without moving the rest: a frame of many messages costs no copying.
        message = _buffer.AsSpan(_start, end - _start).ToArray();
        _start = end + TildeCodec.Terminator.Length;
        _scanned = _start;
        if (_start == _end)
        {
            _start = _end = _scanned = 0;
            if (_buffer.Length > IdleCapacity) _buffer = Array.Empty<byte>();
        }
        return true;
    }

    /// <summary>Moves what is held to the front, and grows the buffer (doubling) when that is not enough.</summary>
    private void MakeRoom(int incoming)
    {
        int pending = Pending;
        int needed = pending + incoming;
        var target = needed <= _buffer.Length ? _buffer : new byte[Math.Max(needed, Math.Max(256, Math.Min(2 * _buffer.Length, int.MaxValue / 2)))];
        Buffer.BlockCopy(_buffer, _start, target, 0, pending);
        _buffer = target;
        _scanned -= _start;
        _start = 0;
        _end = pending;
    }

    private int IndexOfTerminator(bool peek)
    {
        int i = Math.Max(_scanned, _start);
        var terminator = TildeCodec.Terminator;
        while (i < _end)
        {
            int control = _buffer.AsSpan(i, _end - i).IndexOf(TildeCodec.Control);
            if (control < 0) { i = _end; break; }
            i += control;
            if (i + 1 >= _end) break; // wait: the next byte decides whether this is an escape
            byte next = _buffer[i + 1];
            if (next is TildeCodec.Control or (byte)'-') { i += 2; continue; }
            if (i + terminator.Length > _end) break;
            if (_buffer.AsSpan(i, terminator.Length).SequenceEqual(terminator)) return i;
            i++;
        }
        if (!peek) _scanned = i;
        return -1;
    }
}
