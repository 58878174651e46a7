using System.Text;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.PiLink;

public class PiLinkFramingTests
{
    private static List<PiLinkFrame> Feed(PiLinkFrameDecoder decoder, params byte[][] reads)
    {
        var frames = new List<PiLinkFrame>();
        foreach (byte[] read in reads) decoder.Push(read, frames);
        return frames;
    }

    [Fact]
    public void Several_messages_in_one_read_and_the_empty_message_are_delivered_one_by_one()
    {
        var frames = Feed(new PiLinkFrameDecoder(0, 100), "go\0\0Button pressed\0"u8.ToArray());
        Assert.Equal(new[] { "go", "", "Button pressed" }, frames.Select(f => f.Text));
    }

    [Fact]
    public void A_message_split_across_reads_is_reassembled()
    {
        var decoder = new PiLinkFrameDecoder(0, 100);
        Assert.Empty(Feed(decoder, "Butt"u8.ToArray()));
        Assert.Equal(4, decoder.PendingBytes);
        Assert.Equal(new[] { "Button released", "g" }, Feed(decoder, "on rel"u8.ToArray(), "eased\0g\0"u8.ToArray()).Select(f => f.Text));
    }

    [Fact]
    public void A_multibyte_character_split_across_reads_survives()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("Grüße 🙂\0");
        var decoder = new PiLinkFrameDecoder(0, 100);
        var reads = bytes.Select(b => new[] { b }).ToArray(); // one byte per read: every character is split
        Assert.Equal("Grüße 🙂", Assert.Single(Feed(decoder, reads)).Text);
    }

    [Fact]
    public void An_oversized_message_is_reported_once_and_the_next_one_arrives()
    {
        var decoder = new PiLinkFrameDecoder(0, 8);
        var frames = Feed(decoder, "12345"u8.ToArray(), "6789"u8.ToArray(), "abc"u8.ToArray(), "\0ok\0"u8.ToArray());
        Assert.Equal(2, frames.Count);
        Assert.True(frames[0].IsOversized);
        Assert.Equal(9, frames[0].OversizedBytes);
        Assert.Equal("ok", frames[1].Text);
        Assert.Equal("12345678", Assert.Single(Feed(decoder, "12345678\0"u8.ToArray())).Text); // exactly the limit is fine
    }

    [Fact]
    public void A_newline_terminator_takes_CR_LF_lines()
    {
        var frames = Feed(new PiLinkFrameDecoder((byte)'\n', 100), "go\r\nstatus\n"u8.ToArray());
        Assert.Equal(new[] { "go", "status" }, frames.Select(f => f.Text));
    }

    [Fact]
    public void Encode_appends_the_terminator_and_refuses_what_cannot_be_framed()
    {
        Assert.Equal("é\0"u8.ToArray(), PiLinkFrameDecoder.Encode("é", 0, 10));
        var inner = Assert.Throws<DeviceException>(() => PiLinkFrameDecoder.Encode("a\0b", 0, 10));
        Assert.Equal("PiLinkMessageHasTerminator", inner.ErrorId);
        var large = Assert.Throws<DeviceException>(() => PiLinkFrameDecoder.Encode("ééé", 0, 5));
        Assert.Equal("PiLinkMessageTooLarge", large.ErrorId);
        Assert.Equal(DeviceErrorKind.InvalidArgument, large.Kind);
    }
}
