using System.Text;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Engine.Tests.Webifi;

public class TildeCodecTests
{
    private static byte[] Encode(params (string Key, byte[] Value)[] fields)
    {
        var output = new List<byte>();
        foreach (var (key, value) in fields) TildeCodec.AppendField(output, key, value);
        return output.ToArray();
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void Encodes_the_wire_forms_of_the_spec()
    {
        Assert.Equal("~dt=greet~d=hello~~world", Encoding.ASCII.GetString(Encode(("dt", Ascii("greet")), ("d", Ascii("hello~world")))));
        Assert.Equal("~d=a~-b", Encoding.ASCII.GetString(Encode(("d", new byte[] { (byte)'a', 0, (byte)'b' }))));
        // '=', newlines and bytes >= 0x80 pass through raw.
        Assert.Equal(new byte[] { (byte)'~', (byte)'d', (byte)'=', (byte)'=', 10, 0xC3, 0xA9 }, Encode(("d", new byte[] { (byte)'=', 10, 0xC3, 0xA9 })));
    }

    [Theory]
    [InlineData("")]
    [InlineData("~")]
    [InlineData("~~")]
    [InlineData("~t=1")]
    [InlineData("x~t=1y~t=1")]
    [InlineData("a=b~c")]
    [InlineData("Grüße, 世界 🙂")]
    [InlineData("-~-")]
    public void Values_round_trip(string text)
    {
        byte[] value = Encoding.UTF8.GetBytes(text);
        var fields = TildeCodec.Decode(Encode(("dt", Ascii("t")), ("d", value), ("z", Ascii("3"))));
        Assert.Equal(new[] { "dt", "d", "z" }, fields.Select(f => f.Key));
        Assert.Equal(value, fields[1].Value);
        Assert.Equal("3", fields[2].Text);
    }

    [Fact]
    public void Every_byte_value_round_trips_including_NUL()
    {
        byte[] value = Enumerable.Range(0, 256).Select(i => (byte)i).Concat(new byte[] { 0, 0, 126, 126, 45 }).ToArray();
        var field = Assert.Single(TildeCodec.Decode(Encode(("d", value))));
        Assert.Equal(value, field.Value);
    }

    [Fact]
    public void An_empty_value_at_the_end_is_kept_unlike_the_python_decoder()
    {
        var fields = TildeCodec.Decode(Ascii("~dt=x~d="));
        Assert.Equal(2, fields.Count);
        Assert.Empty(fields[1].Value);
    }

    [Fact]
    public void Repeated_keys_keep_their_order()
    {
        var fields = TildeCodec.Decode(Ascii("~e=0~ip=1.2.3.4~ip=5.6.7.8~dn=a~dn=b"));
        Assert.Equal(new[] { "1.2.3.4", "5.6.7.8" }, fields.FindAll("ip"));
        Assert.Equal(0, fields.FindInt("e"));
        Assert.Null(fields.FindInt("missing"));
    }

    [Theory]
    [InlineData("e=0")]
    [InlineData("~e")]
    [InlineData("~e=0~")]
    [InlineData("~e=0~x")]
    public void Malformed_input_is_a_format_error(string text)
    {
        Assert.Throws<FormatException>(() => TildeCodec.Decode(Ascii(text)));
    }

    [Fact]
    public void Empty_input_has_no_fields() => Assert.Empty(TildeCodec.Decode(ReadOnlySpan<byte>.Empty));

    [Fact]
    public void Summaries_hide_payloads_and_passwords()
    {
        string summary = TildeCodec.Summarize(TildeCodec.Decode(Ascii("~cn=webifi~cp=pswd~d=secret")));
        Assert.DoesNotContain("pswd", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", summary, StringComparison.Ordinal);
        Assert.Contains("~cn=webifi", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void The_framer_cuts_at_the_terminator_not_at_an_escaped_one()
    {
        var framer = new TildeFramer(1024);
        byte[] message = Encode(("d", Ascii("~t=1x")));
        framer.Append(message.Concat(TildeCodec.Terminator.ToArray()).ToArray());
        Assert.True(framer.TryTake(out byte[] taken));
        Assert.Equal(Ascii("~t=1x"), Assert.Single(TildeCodec.Decode(taken)).Value);
        Assert.False(framer.TryTake(out _));
        Assert.Equal(0, framer.Pending);
    }

    [Fact]
    public void The_framer_ignores_frame_boundaries_even_inside_an_escape()
    {
        byte[] stream = Encoding.ASCII.GetBytes("~rt=s~e=0~t=1~d=a~~t=1~t=1~t=1");
        for (int split = 1; split < stream.Length; split++)
        {
            var framer = new TildeFramer(1024);
            var messages = new List<string>();
            foreach (var part in new[] { stream[..split], stream[split..] })
            {
                framer.Append(part);
                while (framer.TryTake(out byte[] message)) messages.Add(Encoding.ASCII.GetString(message));
            }
            Assert.Equal(new[] { "~rt=s~e=0", "~d=a~~t=1", "" }, messages);
        }
    }

    [Fact]
    public void The_framer_refuses_a_message_beyond_its_limit()
    {
        var framer = new TildeFramer(16);
        framer.Append(Ascii("~d=0123456789"));
        Assert.Throws<InvalidDataException>(() => framer.Append(Ascii("0123456789abcdef")));
    }

    [Fact]
    public void Error_descriptions_come_from_the_server_table_else_the_fallback()
    {
        var table = new Dictionary<int, string> { [5] = "server text" };
        Assert.Equal("server text", WebifiErrorCode.Describe(5, table));
        Assert.Equal(WebifiErrorCode.FallbackText, WebifiErrorCode.Describe(9, table));
        Assert.Equal(WebifiErrorCode.FallbackText, WebifiErrorCode.Describe(5, null));
    }
}
