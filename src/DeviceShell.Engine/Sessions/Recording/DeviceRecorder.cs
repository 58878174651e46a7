using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Threading.Channels;

namespace DeviceShell.Engine.Sessions.Recording;

/// <summary>
/// Writes what one session exchanges to a <c>.devrec</c> file (docs/recording-format.md). The session's threads only
/// stamp a record and queue it; one writer task serializes and writes, so recording never holds up a reader. Records
/// are written and flushed together once per <see cref="FlushInterval"/> while they come, not one by one: a write or a
/// wake-up per record (a message per round trip on a link doing one at a time) cost the bench's round trips a quarter
/// of their rate; a process that dies loses at most that interval's records.
/// A write failure (a full disk) ends the recording, never the session: <see cref="StopAsync"/> reports it.
/// </summary>
public sealed class DeviceRecorder
{
    /// <summary>The format version this recorder writes.</summary>
    public const int FormatVersion = 1;

    /// <summary>How long a queued record may wait before it reaches the disk.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<RecordedLine> _queue = Channel.CreateUnbounded<RecordedLine>(new UnboundedChannelOptions { SingleReader = true });
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly FileStream _file;
    private readonly Task _writer;
    private readonly DeviceSessionState _initialState;
    private readonly int _sessionId;
    private long _records;
    private Exception? _failure;

    private DeviceRecorder(FileStream file, DeviceSession session)
    {
        _file = file;
        Path = file.Name;
        World = session.World;
        Endpoint = session.Endpoint;
        StartedAt = DateTime.Now;
        _initialState = session.State;
        _sessionId = session.Id;
        _writer = Task.Run(WriteQueuedAsync);
    }

    /// <summary>The file being written (full path).</summary>
    public string Path { get; }

    /// <summary>The world of the recorded session; a replay of another world refuses the file.</summary>
    public DeviceWorld World { get; }

    /// <summary>The recorded session's endpoint, as in <see cref="DeviceSession.Endpoint"/>.</summary>
    public string Endpoint { get; }

    /// <summary>Local time of t = 0 (a local DateTime like every engine timestamp; the file has it in UTC).</summary>
    public DateTime StartedAt { get; }

    /// <summary>Records queued so far (the header and the closing <c>end</c> not counted).</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>
    /// Creates the file (refused when it exists, unless <paramref name="overwrite"/>) and writes the header.
    /// Fails with DeviceRecordingFileExists or DeviceRecordingFailed (the file cannot be created).
    /// </summary>
    internal static DeviceRecorder Create(string path, DeviceSession session, bool overwrite)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.Asynchronous);
        }
        catch (IOException ex) when (!overwrite && File.Exists(path))
        {
            throw new DeviceException(DeviceErrorKind.InvalidOperation, "DeviceRecordingFileExists",
                $"{path} exists; give another path, or -Force to overwrite it.", path, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new DeviceException(DeviceErrorKind.PermissionDenied, "DeviceRecordingFailed", $"Cannot create the recording {path}: {ex.Message}", path, ex);
        }
        return new DeviceRecorder(file, session);
    }

    /// <summary>Milliseconds since t = 0, for a record written later with the time something started (<see cref="WriteAt"/>).</summary>
    internal double Now => Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds;

    /// <summary>Queues one record stamped now; <paramref name="fields"/> are written in order after <c>t</c> and <c>kind</c>.</summary>
    internal void Write(string kind, params RecordField[] fields) => WriteAt(Now, kind, fields);

    /// <summary>Queues one record stamped <paramref name="milliseconds"/> (a call's record, written when its answer came, has its start).</summary>
    internal void WriteAt(double milliseconds, string kind, params RecordField[] fields)
    {
        if (_queue.Writer.TryWrite(new RecordedLine(milliseconds, kind, fields))) Interlocked.Increment(ref _records);
    }

    /// <summary>
    /// Writes the closing <c>end</c> record and closes the file; the file is complete when this returns. Throws
    /// DeviceRecordingFailed when a write failed during the recording (what was written before stays readable).
    /// </summary>
    internal async Task StopAsync()
    {
        _queue.Writer.TryComplete();
        _stopping.TrySetResult();
        await _writer.ConfigureAwait(false);
        if (_failure is not null)
            throw new DeviceException(DeviceErrorKind.ResourceUnavailable, "DeviceRecordingFailed",
                $"The recording {Path} stopped after a write failed: {_failure.Message}", Path, _failure);
    }

    private void WriteHeader(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("format", "devrec");
        json.WriteNumber("version", FormatVersion);
        json.WriteString("world", World.ToString());
        json.WriteString("endpoint", Endpoint);
        json.WriteString("module", ModuleVersion);
        json.WriteString("started", StartedAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        json.WriteNumber("session", _sessionId);
        json.WriteString("state", _initialState.ToString());
        json.WriteEndObject();
    }

    private static readonly string ModuleVersion =
        typeof(DeviceRecorder).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>The writer task: owns the file, writes the header, the queued records and the closing <c>end</c>.</summary>
    private async Task WriteQueuedAsync()
    {
        var reader = _queue.Reader;
        try
        {
            // Lines are made in memory and reach the file a batch at a time: a stream write per line cost the writer
            // more than the JSON (the writer shares the machine's cores with the round trips it records).
            var lines = new ArrayBufferWriter<byte>(LineBatchBytes);
            using var json = new Utf8JsonWriter(lines, new JsonWriterOptions { SkipValidation = true });
            WriteHeader(json);
            EndLine(json, lines);
            long written = 0;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // The first record after a quiet spell wakes the writer; what follows within the interval is gathered
                // and written with it. Woken per record, the writer cost a link doing one round trip at a time a
                // quarter of its rate (a thread-pool wake-up per record on a busy machine).
                await Task.WhenAny(Task.Delay(FlushInterval), _stopping.Task).ConfigureAwait(false);
                while (reader.TryRead(out var line))
                {
                    WriteLine(json, line);
                    EndLine(json, lines);
                    written++;
                    if (lines.WrittenCount >= LineBatchBytes) await WriteOutAsync(lines).ConfigureAwait(false);
                }
                await WriteOutAsync(lines).ConfigureAwait(false);
                await _file.FlushAsync().ConfigureAwait(false);
            }
            double end = Stopwatch.GetElapsedTime(_startTimestamp).TotalMilliseconds;
            WriteLine(json, new RecordedLine(end, "end", new[] { new RecordField("records", written) }));
            EndLine(json, lines);
            await WriteOutAsync(lines).ConfigureAwait(false);
            await _file.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Nothing more reaches the file; the session keeps queuing into a closed channel, which costs nothing.
            _failure = ex;
            _queue.Writer.TryComplete();
        }
        try
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            _failure ??= ex; // the last buffered bytes could not be written either
        }
    }

    /// <summary>Bytes of lines made before they are written to the file.</summary>
    private const int LineBatchBytes = 64 * 1024;

    private static readonly JsonEncodedText TimeName = JsonEncodedText.Encode("t");
    private static readonly JsonEncodedText KindName = JsonEncodedText.Encode("kind");

    private static void WriteLine(Utf8JsonWriter json, RecordedLine line)
    {
        json.WriteStartObject();
        json.WriteNumber(TimeName, Math.Round(line.Milliseconds, 3));
        json.WriteString(KindName, line.Kind);
        foreach (var field in line.Fields) field.WriteTo(json);
        json.WriteEndObject();
    }

    /// <summary>Ends the line <paramref name="json"/> has made in <paramref name="lines"/>, ready for the next.</summary>
    private static void EndLine(Utf8JsonWriter json, ArrayBufferWriter<byte> lines)
    {
        json.Flush();
        json.Reset();
        lines.GetSpan(1)[0] = (byte)'\n';
        lines.Advance(1);
    }

    private async Task WriteOutAsync(ArrayBufferWriter<byte> lines)
    {
        await _file.WriteAsync(lines.WrittenMemory).ConfigureAwait(false);
        lines.Clear();
    }

    private readonly record struct RecordedLine(double Milliseconds, string Kind, RecordField[] Fields);
}

/// <summary>One named value of a record: text (or null), a number, bytes (written as lower-case hex) or a JSON value.</summary>
internal readonly struct RecordField
{
    /// <summary>A value that is JSON already (a protobuf message as JSON), written as itself rather than as a string.</summary>
    public static RecordField Json(string name, string json) => new(name, new RawJson(json));

    private RecordField(string name, RawJson json)
    {
        _name = name;
        _value = json;
    }

    public RecordField(string name, double number)
    {
        _name = name;
        _value = Math.Round(number, 3);
    }

    private sealed record RawJson(string Text);

    private readonly string _name;
    private readonly object? _value;

    public RecordField(string name, string? text)
    {
        _name = name;
        _value = text;
    }

    public RecordField(string name, long number)
    {
        _name = name;
        _value = number;
    }

    public RecordField(string name, byte[] bytes)
    {
        _name = name;
        _value = bytes;
    }

    private static void WriteHex(Utf8JsonWriter json, string name, byte[] bytes)
    {
        // Payloads are small (a TFP payload is at most 64 bytes): spelled on the stack, not in two strings per field.
        Span<byte> hex = bytes.Length <= 256 ? stackalloc byte[bytes.Length * 2] : new byte[bytes.Length * 2];
        for (int i = 0; i < bytes.Length; i++)
        {
            hex[2 * i] = (byte)"0123456789abcdef"[bytes[i] >> 4];
            hex[2 * i + 1] = (byte)"0123456789abcdef"[bytes[i] & 0xf];
        }
        json.WriteString(name, hex);
    }

    internal void WriteTo(Utf8JsonWriter json)
    {
        switch (_value)
        {
            case null: json.WriteNull(_name); break;
            case string text: json.WriteString(_name, text); break;
            case long number: json.WriteNumber(_name, number); break;
            case double number: json.WriteNumber(_name, number); break;
            case RawJson raw:
                json.WritePropertyName(_name);
                json.WriteRawValue(raw.Text, skipInputValidation: true);
                break;
            case byte[] bytes: WriteHex(json, _name, bytes); break;
        }
    }
}
