using System.Globalization;
using System.Text.Json.Serialization;
using DeviceShell.Engine.Sessions;
using DeviceShell.Engine.Sessions.Recording;

namespace DeviceShell.Engine.Lab;

/// <summary>
/// Serving recordings from the Lab (docs/recording-format.md): which simulator replays a recording of which world,
/// the Lab arguments that make it do so, and what a running replay reports.
/// </summary>
public static class LabReplay
{
    /// <summary>The simulator that replays each world's recordings.</summary>
    private static readonly Dictionary<DeviceWorld, string> Simulators = new()
    {
        [DeviceWorld.Brick] = BrickLabClient.Name, [DeviceWorld.Gateway] = GatewayLabClient.Name,
        [DeviceWorld.PiLink] = PiButtonLabClient.Name, [DeviceWorld.Webifi] = WebifiLabClient.Name,
    };

    /// <summary>
    /// The simulators to start and their Lab arguments (<c>--pibutton-replay FILE --pibutton-replay-speed X</c>) for
    /// recordings given by full path. Fails with DeviceRecordingInvalid or DeviceRecordingNotFound for a file that is
    /// not a readable recording, and DeviceRecordingConflict for two recordings of one world (one simulator serves one recording).
    /// </summary>
    public static IReadOnlyList<(string Simulator, IReadOnlyList<string> Arguments)> ArgumentsFor(IEnumerable<string> paths, double speed)
    {
        if (!(speed > 0) || double.IsInfinity(speed)) throw new ArgumentOutOfRangeException(nameof(speed), speed, "A replay speed is above 0 (1 is the recorded pace).");
        var chosen = new Dictionary<string, (string Path, IReadOnlyList<string> Arguments)>();
        foreach (string path in paths)
        {
            var header = DeviceRecording.ReadHeader(path);
            string simulator = Simulators[header.World];
            if (chosen.TryGetValue(simulator, out var earlier))
                throw new DeviceException(DeviceErrorKind.InvalidArgument, "DeviceRecordingConflict",
                    $"{path} and {earlier.Path} are both {header.World} recordings; a Lab replays one recording per world.", path);
            chosen[simulator] = (path, new[]
            {
                $"--{simulator}-replay", path,
                $"--{simulator}-replay-speed", speed.ToString("R", CultureInfo.InvariantCulture),
            });
        }
        return chosen.Select(c => (c.Key, c.Value.Arguments)).ToList();
    }

    /// <summary>What every replaying simulator of <paramref name="lab"/> saw so far.</summary>
    /// <param name="lab">The running lab.</param>
    /// <param name="timeout">How long each simulator may take to answer; null for the lab's default.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    public static async Task<IReadOnlyList<LabReplayReport>> GetReportsAsync(DeviceLab lab, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lab);
        var reports = new List<LabReplayReport>();
        foreach (string simulator in Simulators.Values.Where(s => lab[s] is not null))
        {
            if (await lab.ReplayReportAsync(simulator, timeout, cancellationToken).ConfigureAwait(false) is { } report) reports.Add(report);
        }
        return reports;
    }
}

/// <summary>What one replayed recording served: how far the client followed it, and what it asked that was not recorded.</summary>
public sealed class LabReplayReport
{
    [JsonConstructor]
    internal LabReplayReport(DeviceWorld world, string path, int recorded, int replayed, int answered, IReadOnlyList<LabReplayUncovered> uncovered, IReadOnlyList<string> divergences)
    {
        World = world;
        Path = path;
        Recorded = recorded;
        Replayed = replayed;
        Answered = answered;
        Uncovered = uncovered;
        Divergences = divergences;
    }

    /// <summary>The world of the replayed recording.</summary>
    public DeviceWorld World { get; }

    /// <summary>The recording file that was replayed (full path).</summary>
    public string Path { get; }

    /// <summary>Requests in the recording.</summary>
    public int Recorded { get; }

    /// <summary>Recorded requests the client made in their recorded order.</summary>
    public int Replayed { get; }

    /// <summary>Requests answered from the recording, in order or not.</summary>
    public int Answered { get; }

    /// <summary>Requests the recording does not have, answered by the simulator itself.</summary>
    public IReadOnlyList<LabReplayUncovered> Uncovered { get; }

    /// <summary>Where the client left the recorded order, first first.</summary>
    public IReadOnlyList<string> Divergences { get; }

    /// <summary>True when the client made every recorded request in order and nothing else.</summary>
    [JsonIgnore]
    public bool IsFaithful => Replayed == Recorded && Uncovered.Count == 0 && Divergences.Count == 0;
}

/// <summary>A request the recording did not cover, and how often the client made it.</summary>
/// <param name="Request">The request as the replay keys it (for the gateway: the RPC name and its request as JSON).</param>
/// <param name="Count">How often the client made it.</param>
public sealed record LabReplayUncovered(string Request, int Count);
