using System.Text;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Sessions;

public class LogTextTests
{
    [Fact]
    public void Control_characters_and_ansi_escapes_are_escaped()
    {
        string quoted = LogText.Quote("evil\u001b[31mRED\nforged line\u0007");
        Assert.Equal("\"evil\\u001b[31mRED\\nforged line\\u0007\"", quoted);
        Assert.DoesNotContain(quoted, c => char.IsControl(c));
    }

    [Fact]
    public void Long_text_is_cut_and_its_length_named()
    {
        string quoted = LogText.Quote(new string('x', 1 << 20));
        Assert.True(quoted.Length < 100, quoted);
        Assert.EndsWith("… (1048576 chars)", quoted);
    }

    [Fact]
    public void Bytes_are_decoded_only_as_far_as_shown()
    {
        var payload = Encoding.UTF8.GetBytes("go\r\n" + new string('y', 5000));
        string quoted = LogText.Quote(payload, maxChars: 8);
        Assert.Equal("\"go\\r\\nyyyy\"… (5004 bytes)", quoted);
        Assert.Equal("\"go\"", LogText.Quote("go"u8));
    }
}
