using DeviceShell.Engine.PiLink.Gpio;

namespace DeviceShell.Engine.PiLink;

/// <summary>
/// The Python Exemplary button server (docs/design/pilink-tcpcom.md §10): a tcpcom server that answers the command <c>go</c>
/// with <c>Button pressed</c> (input Low) or <c>Button released</c> (input High). Other messages get no answer.
/// </summary>
public static class PiButtonServer
{
    /// <summary>The command a client sends to ask for the button's state.</summary>
    public const string Command = "go";
    /// <summary>The answer while the input reads Low.</summary>
    internal const string PressedReply = "Button pressed";
    /// <summary>The answer while the input reads High.</summary>
    internal const string ReleasedReply = "Button released";

    /// <summary>
    /// A client that sends nothing for this long is disconnected, so that one silent connection (or a client whose
    /// network vanished) cannot hold the one-client server for ever (docs/design/decisions.md §12.2). The tutorial's client asks every 2 s;
    /// 30 s leaves room for slow pollers and still frees the button within half a minute.
    /// </summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A button server's settings unless told otherwise: tcpcom's, with <see cref="DefaultIdleTimeout"/>.</summary>
    public static PiLinkOptions DefaultOptions { get; } = PiLinkOptions.Default with { IdleTimeout = DefaultIdleTimeout };

    /// <summary>A server (not started yet) that owns <paramref name="button"/> and answers <c>go</c> from it.</summary>
    /// <param name="button">The button to answer from; the server owns it and disposes it when closed.</param>
    /// <param name="port">The TCP port to listen on (tcpcom's 22000 by default; 0 lets the system choose).</param>
    /// <param name="options">Settings; <see cref="DefaultOptions"/> when null (start from it to keep the idle timeout).</param>
    /// <param name="warn">Hears the accept loop's trouble, as <see cref="PiLinkServer.Warn"/>.</param>
    /// <param name="responder">Answers messages instead of <see cref="Answer"/> (the Lab's replay, which falls back to it).</param>
    public static PiLinkServer Create(PiButton button, int port = PiLinkOptions.DefaultPort, PiLinkOptions? options = null, Action<string>? warn = null,
        Func<string, string?>? responder = null) =>
        new(port, options ?? DefaultOptions)
        {
            Button = button,
            Responder = responder ?? (text => Answer(button, text)),
            Warn = warn,
        };

    /// <summary>The tutorial server's answer: the button's state to <c>go</c>, nothing to anything else.</summary>
    public static string? Answer(PiButton button, string text) =>
        text == Command ? (button.Read().Pressed ? PressedReply : ReleasedReply) : null;
}
