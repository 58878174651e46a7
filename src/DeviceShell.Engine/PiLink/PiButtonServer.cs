using DeviceShell.Engine.PiLink.Gpio;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// The Python Exemplary button server (pilink-tcpcom.md §10): a tcpcom server that answers the command <c>go</c>
/// with <c>Button pressed</c> (input Low) or <c>Button released</c> (input High). Other messages get no answer.
/// </summary>
public static class PiButtonServer
{
    public const string Command = "go";
    public const string PressedReply = "Button pressed";
    public const string ReleasedReply = "Button released";

    /// <summary>A server (not started yet) that owns <paramref name="button"/> and answers <c>go</c> from it.</summary>
    public static PiLinkServer Create(PiButton button, int port = PiLinkOptions.DefaultPort, PiLinkOptions? options = null) =>
        new(port, options)
        {
            Button = button,
            Responder = text => text == Command ? (button.Read().Pressed ? PressedReply : ReleasedReply) : null,
        };
}
