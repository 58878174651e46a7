using DeviceShell.Engine.Lab;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// A Webifi recording (docs/recording-format.md "Webifi") as the relay serves it: a sequence of steps, each a login
/// or a send of the recorded session, with the relay's recorded answer (the login's outcome, the send's code), the
/// messages the session received after it (with their delays) and, when the session lost its relay there, the
/// drop. <see cref="ReplayRelayRouter"/> plays a step when the client makes it (<see cref="ReplaySequence{TAnswer}"/>
/// keeps the order and the report). The connect password is not in a recording: the recorded connect name logs in
/// with any password, into an account of its own with a password nobody knows (docs/design/decisions.md §27).
/// </summary>
internal sealed class WebifiReplay : IDisposable
{
    private readonly ReplaySequence<Step> _sequence;
    private readonly double _speed;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _deliveries = Task.CompletedTask;

    private WebifiReplay(string path, WebifiAccount account, IReadOnlyList<Step> steps, double speed)
    {
        Path = path;
        Account = account;
        _sequence = new ReplaySequence<Step>(steps.Select(s => (s.Request, s)).ToList());
        _speed = speed;
    }

    public string Path { get; }

    /// <summary>The recorded connect name, with a fresh random password and every network the recording used.</summary>
    public WebifiAccount Account { get; }

    /// <summary>Reads a Webifi recording; fails with DeviceRecordingInvalid when it is of another world or has no login.</summary>
    public static WebifiReplay Load(string path, double speed)
    {
        var recording = ReplaySetting.Load(path, DeviceWorld.Webifi, speed, "webifi");
        try
        {
            return FromRecords(path, recording.Records, speed);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "DeviceRecordingInvalid", $"{path} has a Webifi record without the fields it needs: {ex.Message}", path, ex);
        }
    }

    private static WebifiReplay FromRecords(string path, IReadOnlyList<JsonElement> records, double speed)
    {
        var steps = new List<Step>();
        var networks = new SortedSet<string>(StringComparer.Ordinal);
        string? connectName = null;
        Step? current = null;
        foreach (var record in records.OrderBy(r => r.GetProperty("t").GetDouble()))
        {
            double t = record.GetProperty("t").GetDouble();
            switch (record.GetProperty("kind").GetString())
            {
                case "login":
                    connectName ??= record.GetProperty("connectName").GetString();
                    int loginCode = record.GetProperty("outcome").GetString() == "accepted" ? 0 : record.GetProperty("code").GetInt32();
                    steps.Add(current = new Step(LoginRequest(record.GetProperty("connectName").GetString() ?? ""), loginCode, t));
                    break;
                case "networks" when record.GetProperty("code").GetInt32() == Engine.Webifi.WebifiErrorCode.NetworksSet:
                    networks.UnionWith(Texts(record.GetProperty("networks")));
                    break;
                case "send" when record.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.Number:
                    // A send the relay never answered (the session closed first) is not one the relay saw.
                    var to = record.GetProperty("to").EnumerateArray().Select(id => id.GetInt32().ToString(CultureInfo.InvariantCulture)).ToList();
                    var sendNetworks = Texts(record.GetProperty("network"));
                    if (code.GetInt32() == 0) networks.UnionWith(sendNetworks);
                    steps.Add(current = new Step(SendRequest(to, sendNetworks, record.GetProperty("dataType").GetString() ?? "", Data(record)), code.GetInt32(), t));
                    break;
                case "receive" when current is not null:
                    current.Replies.Add(new Reply(t - current.At, record.GetProperty("from").GetInt32(), record.GetProperty("dataType").GetString() ?? "", Data(record)));
                    break;
                case "drop" when current is not null:
                    // A transport switch asked for by the script is no fault of the relay.
                    current.Switched = record.GetProperty("errorId").GetString() == "WebifiSwitching";
                    if (current.Switched) current.DropAfter = null;
                    break;
                case "state" when current is not null && !current.Switched && record.GetProperty("state").GetString() == nameof(DeviceSessionState.Reconnecting):
                    current.DropAfter ??= t - current.At;
                    break;
            }
        }
        if (connectName is null)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "DeviceRecordingInvalid", $"{path} has no login record: the replay cannot tell which connect name to serve.", path);
        string password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        return new WebifiReplay(path, new WebifiAccount(connectName, password, networks.ToArray()), steps, speed);
    }

    /// <summary>The relay's accounts with the recorded one in place of any of the same connect name.</summary>
    public IReadOnlyList<WebifiAccount> AccountsWith(IReadOnlyList<WebifiAccount> accounts)
    {
        var own = accounts.FirstOrDefault(a => a.ConnectName == Account.ConnectName);
        var recorded = own is null ? Account : Account with { Networks = Account.Networks.Union(own.Networks, StringComparer.Ordinal).ToArray() };
        return accounts.Where(a => a.ConnectName != Account.ConnectName).Append(recorded).ToList();
    }

    /// <summary>How a login is keyed (the password is not part of it).</summary>
    public static string LoginRequest(string connectName) => "login " + connectName;

    /// <summary>How a send is keyed: its recipients, data type and payload (as text when it is UTF-8, else hex).</summary>
    public static string SendRequest(IReadOnlyList<string> toSessionIds, IReadOnlyList<string> toNetworks, string dataType, byte[] data) =>
        string.Create(CultureInfo.InvariantCulture, $"send to [{string.Join(",", toSessionIds)}] network [{string.Join(",", toNetworks)}] type {LogText.Quote(dataType)} data {LogText.Quote(
            System.Text.Unicode.Utf8.IsValid(data) ? Encoding.UTF8.GetString(data) : "0x" + Convert.ToHexString(data).ToLowerInvariant())}");

    /// <summary>The recorded answer to <paramref name="request"/>, or null when the recording has none (then reported as uncovered).</summary>
    public Step? Next(string request, out bool inOrder) => _sequence.Next(request, out inOrder);

    /// <summary>
    /// Delivers the step's recorded messages to <paramref name="session"/> at their recorded delays from now (divided
    /// by the speed), each step after the previous one, then, for a step made at its recorded place, drops every
    /// session as the recorded relay restart did (<paramref name="restart"/>).
    /// </summary>
    public void Play(Step step, RelaySession session, bool inOrder, Action restart)
    {
        double? dropAfter = inOrder ? step.DropAfter : null;
        if (step.Replies.Count == 0 && dropAfter is null) return;
        long start = Environment.TickCount64;
        var stopping = _stopping.Token;
        lock (_gate)
        {
            _deliveries = _deliveries.ContinueWith(async _ =>
            {
                foreach (var reply in step.Replies)
                {
                    await DelayUntil(start, reply.Milliseconds, stopping).ConfigureAwait(false);
                    // As from the recorded sender; without the sender's message id, so that an answer served again
                    // (a step made more often than recorded) is not taken for a repeat.
                    session.TryEnqueue(new RelayDelivery(reply.From, reply.DataType, reply.Data));
                }
                if (dropAfter is double drop)
                {
                    await DelayUntil(start, drop, stopping).ConfigureAwait(false);
                    restart();
                }
            }, stopping, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
        }
    }

    /// <summary>What the replay saw so far, for Get-LabReplayReport.</summary>
    public LabReplayReport Report() => _sequence.Report(DeviceWorld.Webifi, Path);

    /// <summary>Ends what is still to be delivered (the relay is stopping).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private Task DelayUntil(long start, double recordedMilliseconds, CancellationToken stopping)
    {
        long wait = start + (long)(recordedMilliseconds / _speed) - Environment.TickCount64;
        return wait > 0 ? Task.Delay(TimeSpan.FromMilliseconds(wait), stopping) : Task.CompletedTask;
    }

    private static List<string> Texts(JsonElement array) => array.EnumerateArray().Select(n => n.GetString() ?? "").ToList();

    private static byte[] Data(JsonElement record) =>
        record.TryGetProperty("hex", out var hex) ? Convert.FromHexString(hex.GetString() ?? "")
        : Encoding.UTF8.GetBytes(record.TryGetProperty("data", out var text) ? text.GetString() ?? "" : "");

    internal sealed record Reply(double Milliseconds, int From, string DataType, byte[] Data);

    /// <summary>A login or a send as recorded: the relay's answer (0, or the error code), what followed, and a drop.</summary>
    internal sealed class Step(string request, int code, double at)
    {
        public string Request { get; } = request;

        public int Code { get; } = code;

        public double At { get; } = at;

        public List<Reply> Replies { get; } = new();

        /// <summary>When the session lost its relay after this step, if it did (not for a transport switch).</summary>
        public double? DropAfter { get; set; }

        public bool Switched { get; set; }
    }
}
