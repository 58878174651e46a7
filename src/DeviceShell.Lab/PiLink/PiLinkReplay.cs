using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.PiLink;

/// <summary>
/// Serves a Pi link recording (docs/recording-format.md "Pi link") from a tcpcom server. The recording is a sequence
/// of exchanges: a message the client sent, the messages the server sent after it (with their delays), and whether
/// the server dropped the link there. A client that sends the recorded messages in order gets the recorded answers
/// at the recorded pace (divided by the speed) and the drop at its place. A message out of order is answered by
/// the next recorded exchange with the same text without its drop (<see cref="ReplaySequence{TAnswer}"/>); a message
/// the recording never saw is left to the simulator's own answer. What the server sent before the first message is
/// sent after each connect.
/// </summary>
public sealed class PiLinkReplay
{
    private readonly object _gate = new();
    private readonly ReplaySequence<Exchange> _sequence;
    private readonly IReadOnlyList<TimedText> _greeting;
    private readonly double _speed;
    private PiLinkServer? _server;
    private Task _answers = Task.CompletedTask;

    private PiLinkReplay(string path, IReadOnlyList<TimedText> greeting, IReadOnlyList<Exchange> exchanges, double speed)
    {
        Path = path;
        _greeting = greeting;
        _sequence = new ReplaySequence<Exchange>(exchanges.Select(e => (e.Text, e)).ToList());
        _speed = speed;
    }

    /// <summary>The recording served.</summary>
    public string Path { get; }

    /// <summary>Reads a Pi link recording; fails with DeviceRecordingInvalid when it is of another world.</summary>
    public static PiLinkReplay Load(string path, double speed)
    {
        var recording = ReplaySetting.Load(path, DeviceWorld.PiLink, speed, "pibutton");
        var greeting = new List<TimedText>();
        var exchanges = new List<Exchange>();
        Exchange? current = null;
        bool closedByClient = false;
        foreach (var record in recording.Records)
        {
            double t = record.GetProperty("t").GetDouble();
            switch (record.GetProperty("kind").GetString())
            {
                case "send":
                    current = new Exchange(Text(record), t);
                    exchanges.Add(current);
                    break;
                case "receive" when current is null:
                    greeting.Add(new TimedText(t, Text(record)));
                    break;
                case "receive":
                    current!.Replies.Add(new TimedText(t - current.SentAt, Text(record)));
                    break;
                case "close":
                    closedByClient = true;
                    break;
                case "error" when current is not null && current.Replies.Count == 0
                                  && record.TryGetProperty("errorId", out var errorId) && errorId.GetString() is "PiLinkNotConnected" or "PiLinkSendFailed":
                    // The message never left (the link was down): the server never saw it, so there is nothing to answer.
                    exchanges.RemoveAt(exchanges.Count - 1);
                    current = exchanges.Count > 0 ? exchanges[^1] : null;
                    break;
                case "link" when record.GetProperty("state").GetString() == "DISCONNECTED" && !closedByClient && current is not null:
                    current.DropAfter ??= t - current.SentAt;
                    break;
            }
        }
        // The greeting's times count from the first record: the recording starts on a connected session.
        double first = greeting.Count > 0 ? greeting[0].Milliseconds : 0;
        return new PiLinkReplay(path, greeting.Select(g => g with { Milliseconds = g.Milliseconds - first }).ToList(), exchanges, speed);
    }

    /// <summary>Serves this recording from <paramref name="server"/>: call before the server starts.</summary>
    public void Attach(PiLinkServer server)
    {
        _server = server;
        server.MessageReceived += (_, message) =>
        {
            if (message.State != PiLinkState.Connected || _greeting.Count == 0) return;
            lock (_gate) Schedule(_greeting, dropAfter: null);
        };
    }

    /// <summary>
    /// The server's answer to one message: null when the recording answers it (its replies follow on their own time),
    /// else the simulator's own answer from <paramref name="fallback"/>.
    /// </summary>
    public string? Answer(string text, Func<string, string?> fallback)
    {
        var exchange = _sequence.Next(text, out bool inOrder);
        if (exchange is null) return fallback(text);
        lock (_gate) Schedule(exchange.Replies, inOrder ? exchange.DropAfter : null);
        return null;
    }

    /// <summary>What the replay saw so far, for Get-LabReplayReport.</summary>
    public LabReplayReport Report() => _sequence.Report(DeviceWorld.PiLink, Path);

    /// <summary>Sends replies at their recorded delays after now, each answer after the previous one (under the gate).</summary>
    private void Schedule(IReadOnlyList<TimedText> replies, double? dropAfter)
    {
        var server = _server!;
        long start = Environment.TickCount64;
        _answers = _answers.ContinueWith(async _ =>
        {
            foreach (var reply in replies)
            {
                await DelayUntil(start, reply.Milliseconds).ConfigureAwait(false);
                try
                {
                    await server.SendAsync(reply.Text).ConfigureAwait(false);
                }
                catch (DeviceException)
                {
                    return; // the client left: the rest of this answer has nobody to go to
                }
            }
            if (dropAfter is double drop)
            {
                await DelayUntil(start, drop).ConfigureAwait(false);
                await server.DisconnectClientAsync().ConfigureAwait(false);
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    private Task DelayUntil(long start, double recordedMilliseconds)
    {
        long due = start + (long)(recordedMilliseconds / _speed);
        long wait = due - Environment.TickCount64;
        return wait > 0 ? Task.Delay(TimeSpan.FromMilliseconds(wait)) : Task.CompletedTask;
    }

    private static string Text(JsonElement record) =>
        record.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String ? text.GetString()! : "";

    private sealed record TimedText(double Milliseconds, string Text);

    private sealed class Exchange
    {
        public Exchange(string text, double sentAt)
        {
            Text = text;
            SentAt = sentAt;
        }

        public string Text { get; }

        public double SentAt { get; }

        public List<TimedText> Replies { get; } = new();

        /// <summary>When the server dropped the link after this message, if it did.</summary>
        public double? DropAfter { get; set; }
    }
}
