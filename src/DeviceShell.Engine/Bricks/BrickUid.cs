using System.Numerics;
using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Bricks;

/// <summary>
/// Tinkerforge UIDs: a 32-bit number on the wire, written as plain base58 (most significant digit first,
/// no padding, no checksum) for people. Old 64-bit UIDs are folded to 32 bits the way the bindings do.
/// </summary>
public static class BrickUid
{
    /// <summary>The 58 base58 digits in value order: 1-9, a-z without l, A-Z without I and O.</summary>
    internal const string Alphabet = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";

    /// <summary>The UID of the Brick Daemon itself ("2").</summary>
    public const uint Daemon = 1;

    /// <summary>The broadcast UID used by enumerate and the disconnect probe.</summary>
    public const uint Broadcast = 0;

    private static readonly sbyte[] DigitOf = BuildDigitTable();

    /// <summary>The base58 text of a 32-bit UID as the devices print it, e.g. 1 (the daemon) gives "2"; 0 gives "1".</summary>
    public static string Encode(uint uid)
    {
        if (uid == 0) return "1";
        Span<char> digits = stackalloc char[8];
        int at = digits.Length;
        while (uid > 0)
        {
            digits[--at] = Alphabet[(int)(uid % 58)];
            uid /= 58;
        }
        return new string(digits[at..]);
    }

    /// <summary>Parses a base58 UID; values above 32 bits are folded like the bindings fold old 64-bit UIDs.</summary>
    /// <exception cref="DeviceException">InvalidUid (InvalidArgument) for bad characters, zero or more than 64 bits.</exception>
    public static uint Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        BigInteger value = BigInteger.Zero;
        foreach (char c in text)
        {
            int digit = c < DigitOf.Length ? DigitOf[c] : -1;
            if (digit < 0)
                throw Invalid(text, $"'{c}' is not a base58 character (UIDs use 1-9, a-z and A-Z without 0, O, I and l).");
            value = value * 58 + digit;
            if (value > ulong.MaxValue)
                throw Invalid(text, "its value does not fit in 64 bits.");
        }
        uint uid = value > uint.MaxValue ? Fold64((ulong)value) : (uint)value;
        if (uid == 0)
            throw Invalid(text, text.Length == 0 ? "it is empty." : "it maps to zero (the broadcast UID).");
        return uid;
    }

    /// <summary>Like <see cref="Parse"/> but returns false instead of throwing for null or an invalid UID.</summary>
    public static bool TryParse(string? text, out uint uid)
    {
        uid = 0;
        if (text is null) return false;
        try
        {
            uid = Parse(text);
            return true;
        }
        catch (DeviceException)
        {
            return false;
        }
    }

    /// <summary>The bindings' mapping of an old 64-bit UID onto the 32 bits the protocol carries.</summary>
    public static uint Fold64(ulong value)
    {
        uint lo = (uint)value;
        uint hi = (uint)(value >> 32);
        return (lo & 0x00000FFF) | ((lo & 0x0F000000) >> 12) | ((hi & 0x0000003F) << 16) | ((hi & 0x000F0000) << 6) | ((hi & 0x3F000000) << 2);
    }

    /// <summary>Reads a NUL-padded char[8] UID field as a string (empty when the field is all zeros).</summary>
    public static string ReadField(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.Latin1.GetString(end < 0 ? field : field[..end]);
    }

    /// <summary>Writes <paramref name="text"/> as a NUL-padded Latin-1 char[n] field (cut at the field's length).</summary>
    internal static void WriteField(Span<byte> field, string text)
    {
        field.Clear();
        Encoding.Latin1.GetBytes(text.AsSpan(0, Math.Min(text.Length, field.Length)), field);
    }

    private static DeviceException Invalid(string text, string why) =>
        BrickErrors.Create(DeviceErrorKind.InvalidArgument, "InvalidUid", $"'{text}' is not a valid UID: {why}", text);

    private static sbyte[] BuildDigitTable()
    {
        var table = new sbyte[128];
        Array.Fill(table, (sbyte)-1);
        for (int i = 0; i < Alphabet.Length; i++) table[Alphabet[i]] = (sbyte)i;
        return table;
    }
}
