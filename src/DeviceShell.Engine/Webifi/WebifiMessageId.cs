using System.Globalization;
using System.Security.Cryptography;

namespace DeviceShell.Engine.Webifi;

/// <summary>
/// A DeviceShell extension of the Webifi protocol that makes delivery exactly once, which the protocol itself cannot
/// (it has no message id and no receipt, docs/design/webifi.md §4): a client that asks for it at login (<c>~mi=1</c>, answered with
/// <c>~mi=1</c> by relays that know it, DeviceShell's Lab relay among them) numbers each message it sends
/// (<c>~u=SENDER.SEQUENCE</c> before <c>~d</c>), and the relay passes the number on to recipients that asked too.
/// A message can then arrive twice only by being sent or written twice — a sender sending its unacknowledged window
/// again after a dropped socket, a relay killed before it could forget what it had written — and the recipient drops
/// the repeat. Official clients never ask, so they never see the field; a server that does not know the request and
/// ignores it or refuses the login is served as before (see WebifiLogin.RequestAsync).
/// </summary>
/// <param name="Sender">Random, chosen by the client at each login (<see cref="WebifiLink.MessageSender"/>).</param>
/// <param name="Sequence">Counts the sender's messages from 1, in the order they are sent.</param>
internal readonly record struct WebifiMessageId(string Sender, long Sequence)
{
    /// <summary>Longer ids are not ours: relays and clients treat them as absent.</summary>
    public const int MaxLength = 64;

    public static string NewSender() => Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    public override string ToString() => Sender + "." + Sequence.ToString(CultureInfo.InvariantCulture);

    public static WebifiMessageId? Parse(string text)
    {
        int dot = text.LastIndexOf('.');
        if (text.Length > MaxLength || dot <= 0 || !long.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long sequence))
            return null;
        return new WebifiMessageId(text[..dot], sequence);
    }
}

/// <summary>
/// The recipient's side of <see cref="WebifiMessageId"/>: a sender's messages arrive in its order (the relay keeps it,
/// and a resent window starts again from its oldest message), so a message is a repeat when its sequence is not above
/// the last one taken from that sender. A sender is its relay session id (which the relay sets, <c>~f</c>) together
/// with the id's sender part, which the sending client chooses at random at each login: a peer can make only its own
/// messages look repeated, and numbers planted under a relay session id that comes round again after a relay restart
/// never meet the new holder's sender part (docs/design/decisions.md §25). Remembers up to <see cref="MaxSenders"/> senders, forgetting
/// the one heard from least recently (a linked list in hearing order: O(1) per message), so a long session that meets
/// many short-lived senders stays small. Thread-safe: the readers of an old and a new link may overlap for a moment.
/// </summary>
internal sealed class WebifiRepeatFilter
{
    public const int MaxSenders = 4096;

    private readonly Dictionary<(int From, string Sender), LinkedListNode<Heard>> _senders = new();
    /// <summary>Least recently heard first.</summary>
    private readonly LinkedList<Heard> _byHearing = new();

    /// <summary>True for a message not seen before (and remembers it); false for a repeat.</summary>
    public bool IsNew(int from, WebifiMessageId id)
    {
        var sender = (from, id.Sender);
        lock (_senders)
        {
            if (_senders.TryGetValue(sender, out var node))
            {
                if (id.Sequence <= node.Value.Sequence) return false;
                node.Value.Sequence = id.Sequence;
                _byHearing.Remove(node);
                _byHearing.AddLast(node);
                return true;
            }
            if (_senders.Count >= MaxSenders)
            {
                var oldest = _byHearing.First!;
                _byHearing.RemoveFirst();
                _senders.Remove(oldest.Value.Sender);
            }
            _senders[sender] = _byHearing.AddLast(new Heard(sender, id.Sequence));
            return true;
        }
    }

    private sealed class Heard((int From, string Sender) sender, long sequence)
    {
        public (int From, string Sender) Sender { get; } = sender;

        public long Sequence { get; set; } = sequence;
    }
}
