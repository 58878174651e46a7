using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Lab.Hosting;

/// <summary>
/// The requests of a recording in their recorded order, each with its recorded answer, as every world's replay serves
/// them (docs/recording-format.md): a request that comes in recorded order gets its answer and moves the replay on; one
/// out of order gets the next recorded answer to the same request, cycling through them (a reading asked more often
/// than recorded), and counts as a divergence; one never recorded counts as uncovered (the simulator answers it).
/// Thread-safe.
/// </summary>
internal sealed class ReplaySequence<TAnswer> where TAnswer : class
{
    private readonly object _gate = new();
    private readonly IReadOnlyList<(string Request, TAnswer Answer)> _recorded;
    private readonly Dictionary<string, int> _cycles = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _uncovered = new(StringComparer.Ordinal);
    private readonly List<string> _divergences = new();
    private int _position;
    private int _answered;

    public ReplaySequence(IReadOnlyList<(string Request, TAnswer Answer)> recorded) => _recorded = recorded;

    /// <summary>
    /// The answer to <paramref name="request"/>, or null when the recording has none (then counted as uncovered).
    /// <paramref name="inOrder"/> says whether it came at its recorded place: only then do recorded faults happen again.
    /// </summary>
    public TAnswer? Next(string request, out bool inOrder)
    {
        lock (_gate)
        {
            inOrder = _position < _recorded.Count && _recorded[_position].Request == request;
            if (inOrder)
            {
                _answered++;
                return _recorded[_position++].Answer;
            }
            var same = _recorded.Where(r => r.Request == request).ToList();
            if (same.Count == 0)
            {
                _uncovered[request] = _uncovered.GetValueOrDefault(request) + 1;
                return null;
            }
            if (_position < _recorded.Count)
                _divergences.Add($"request {_position + 1}: the client asked {LogText.Quote(request)} where the recording has {LogText.Quote(_recorded[_position].Request)}");
            int cycle = _cycles.GetValueOrDefault(request);
            _cycles[request] = cycle + 1;
            _answered++;
            return same[cycle % same.Count].Answer;
        }
    }

    /// <summary>What the replay saw so far, as the engine's Get-LabReplayReport shows it.</summary>
    public LabReplayReport Report(DeviceWorld world, string path)
    {
        lock (_gate)
        {
            return new LabReplayReport(world, path, _recorded.Count, _position, _answered,
                _uncovered.Select(u => new LabReplayUncovered(u.Key, u.Value)).ToList(), _divergences.ToList());
        }
    }
}

/// <summary>A simulator's replay settings: <c>--NAME-replay FILE</c> and <c>--NAME-replay-speed X</c> (default 1).</summary>
internal static class ReplaySetting
{
    public static (string Path, double Speed)? From(LabSimulatorOptions options, string simulator)
    {
        if (options.Setting("replay") is not string path) return null;
        double speed = 1;
        if (options.Setting("replay-speed") is string pace
            && (!double.TryParse(pace, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out speed) || speed <= 0))
            throw new ArgumentException($"--{simulator}-replay-speed takes a factor above 0 (1 is the recorded pace), not '{pace}'.");
        return (path, speed);
    }

    /// <summary>Reads a recording for <paramref name="simulator"/>; refuses one of another world than <paramref name="world"/>.</summary>
    public static DeviceRecording Load(string path, DeviceWorld world, double speed, string simulator)
    {
        if (!(speed > 0)) throw new ArgumentOutOfRangeException(nameof(speed), speed, "A replay speed is above 0 (1 is the recorded pace).");
        var recording = DeviceRecording.Load(path);
        if (recording.World != world)
            throw new DeviceException(DeviceErrorKind.InvalidArgument, "DeviceRecordingInvalid",
                $"{path} is a {recording.World} recording; the {simulator} simulator replays {world} recordings.", path);
        return recording;
    }
}
