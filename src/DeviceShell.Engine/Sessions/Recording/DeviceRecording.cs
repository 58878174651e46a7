using System.Globalization;
using System.Text.Json;

namespace DeviceShell.Engine.Sessions.Recording;

/// <summary>
/// A <c>.devrec</c> file read back (docs/recording-format.md): its header and its records in file order, for the Lab
/// to replay (scripts read a recording with Get-Content | ConvertFrom-Json).
/// </summary>
internal sealed class DeviceRecording
{
    private DeviceRecording(string path, DeviceWorld world, string endpoint, string module, DateTime started, IReadOnlyList<JsonElement> records, bool isComplete)
    {
        Path = path;
        World = world;
        Endpoint = endpoint;
        Module = module;
        Started = started;
        Records = records;
        IsComplete = isComplete;
    }

    public string Path { get; }

    public DeviceWorld World { get; }

    /// <summary>The peer the recorded session talked to.</summary>
    public string Endpoint { get; }

    /// <summary>The DeviceShell version that wrote the file.</summary>
    public string Module { get; }

    /// <summary>Local time of t = 0 (the file holds it in UTC).</summary>
    public DateTime Started { get; }

    /// <summary>Every record after the header, the closing <c>end</c> excluded, in file order.</summary>
    public IReadOnlyList<JsonElement> Records { get; }

    /// <summary>False when the file has no <c>end</c> record: the recording process ended while it wrote.</summary>
    public bool IsComplete { get; }

    /// <summary>Reads only the header line: which world a file is for, before the Lab is told to serve it.</summary>
    public static DeviceRecording ReadHeader(string path) => Read(path, headerOnly: true);

    /// <summary>Reads the whole file; fails with DeviceRecordingInvalid naming the line that is not a record.</summary>
    public static DeviceRecording Load(string path) => Read(path, headerOnly: false);

    private static DeviceRecording Read(string path, bool headerOnly)
    {
        IEnumerable<string> lines;
        try
        {
            lines = File.ReadLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DeviceException(DeviceErrorKind.NotFound, "DeviceRecordingNotFound", $"Cannot read the recording {path}: {ex.Message}", path, ex);
        }
        int number = 0;
        DeviceRecording? header = null;
        var records = new List<JsonElement>();
        bool complete = false;
        foreach (string line in lines)
        {
            number++;
            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line);
                element = document.RootElement.Clone();
            }
            catch (JsonException ex)
            {
                throw Invalid(path, number, $"not JSON ({ex.Message})");
            }
            if (element.ValueKind != JsonValueKind.Object) throw Invalid(path, number, "not a JSON object");
            if (header is null)
            {
                header = FromHeader(path, element, number);
                if (headerOnly) return header;
                continue;
            }
            if (!element.TryGetProperty("t", out var t) || t.ValueKind != JsonValueKind.Number) throw Invalid(path, number, "a record without its time 't'");
            if (!element.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String) throw Invalid(path, number, "a record without its 'kind'");
            if (kind.ValueEquals("end"))
            {
                complete = true;
                break;
            }
            records.Add(element);
        }
        if (header is null) throw Invalid(path, 1, "an empty file, not a recording");
        return new DeviceRecording(path, header.World, header.Endpoint, header.Module, header.Started, records, complete);
    }

    private static DeviceRecording FromHeader(string path, JsonElement header, int number)
    {
        string? Text(string name) =>
            header.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (Text("format") != "devrec") throw Invalid(path, number, "not a DeviceShell recording (its first line has no \"format\":\"devrec\")");
        if (!header.TryGetProperty("version", out var version) || !version.TryGetInt32(out int v) || v != DeviceRecorder.FormatVersion)
            throw Invalid(path, number, $"a recording of another format version; this module reads version {DeviceRecorder.FormatVersion}");
        if (!Enum.TryParse(Text("world"), ignoreCase: false, out DeviceWorld world) || !Enum.IsDefined(world))
            throw Invalid(path, number, $"an unknown world '{Text("world")}'");
        if (!DateTime.TryParse(Text("started"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var started))
            throw Invalid(path, number, "a header without its start time 'started'");
        return new DeviceRecording(path, world, Text("endpoint") ?? "", Text("module") ?? "", started.ToLocalTime(), Array.Empty<JsonElement>(), false);
    }

    private static DeviceException Invalid(string path, int line, string what) =>
        new(DeviceErrorKind.InvalidArgument, "DeviceRecordingInvalid", $"{path} line {line}: {what}.", path);
}
