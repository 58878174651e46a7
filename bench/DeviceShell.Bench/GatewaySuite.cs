using System.Diagnostics;
using System.Globalization;
using DeviceShell.Engine.Gateway;

namespace DeviceShell.Bench;

/// <summary>
/// The gateway world over gRPC, TLS and HTTP/2 against the Lab's gateway in its own process: a small unary RPC
/// (GetDeviceList of the Lab's few devices), cold (calls completed in the first second of a fresh process, connect
/// included) and warm (one at a time and 8 in flight), next to Debian's grpcio client of the same RPC.
/// </summary>
public sealed class GatewaySuite : IBenchmarkSuite
{
    private const string World = "Gateway";
    private const int InFlight = 8;
    private static readonly TimeSpan ColdWindow = TimeSpan.FromSeconds(1);

    public string Name => "gateway";

    public async Task RunAsync(Bench bench, CancellationToken cancellationToken)
    {
        await using var lab = await Bench.StartLabAsync("--gateway", "0").ConfigureAwait(false);
        var gateway = lab["gateway"]!;
        string? grpcioMissing = await Peers.PythonModuleMissingAsync("grpc", "python3-grpcio").ConfigureAwait(false)
            ?? (File.Exists("/usr/bin/grpc_python_plugin") ? null : "needs Debian's python3-grpc-tools or protobuf-compiler-grpc (grpc_python_plugin)");

        Func<Task<string>> Grpcio(string mode, int inFlight, TimeSpan window) => () => Bench.RunAsync(Peers.Python, new[]
        {
            Bench.PeerScript("grpcio_get_device_list.py"), Bench.Metadata("GatewayProtoRoot"), Bench.Metadata("WellKnownProtos"), gateway.Host,
            Native.Text(gateway.Port), gateway.CaCertificate!, mode, Native.Text(bench.Settings.Warmup.TotalSeconds), Native.Text(window.TotalSeconds), Native.Text(inFlight),
        }, bench.Settings.Warmup + window + TimeSpan.FromSeconds(60));

        // Cold: a fresh process each round on both sides; each prints its calls in the first second and the time to its first answer.
        var firstOurs = new List<double>();
        var firstGrpcio = new List<double>();
        string coldChild = PrepareColdChild(bench);
        var cold = await bench.CompareAsync(_ => ColdAsync(ColdOursAsync(coldChild, gateway.Host, gateway.Port, gateway.CaCertificate!), firstOurs),
            grpcioMissing is null ? new[] { ("grpcio", (Func<Task<double>>)(() => ColdAsync(Grpcio("cold", 1, ColdWindow)(), firstGrpcio))) } : Array.Empty<(string, Func<Task<double>>)>(),
            warmup: _ => Task.FromResult(0.0)).ConfigureAwait(false);
        Report(bench, "GetDeviceList (small) calls in the first second of a fresh process, connect included (cold)", cold, grpcioMissing);
        if (grpcioMissing is null)
        {
            double ours = Bench.Median(firstOurs), theirs = Bench.Median(firstGrpcio);
            bench.Add(new BenchRow(World, "connect → first GetDeviceList answer in a fresh process (cold; lower is better)", Bench.Format(ours, "N1") + " ms", "grpcio",
                Bench.Format(theirs, "N1") + " ms", Bench.Median(firstOurs.Zip(firstGrpcio, (o, t) => t / o))));
        }

        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = gateway.Host, Port = gateway.Port, CaCertificateFile = gateway.CaCertificate!, Timeout = TimeSpan.FromSeconds(30) }, cancellationToken).ConfigureAwait(false);
        foreach (int inFlight in new[] { 1, InFlight })
        {
            var warm = await bench.CompareAsync(window => Bench.RateAsync(() => session.GetDevicesAsync(cancellationToken), window, inFlight),
                grpcioMissing is null ? new[] { ("grpcio", (Func<Task<double>>)(async () => Bench.ParseNumber(await Grpcio("warm", inFlight, bench.Settings.Window)().ConfigureAwait(false)))) } : Array.Empty<(string, Func<Task<double>>)>()).ConfigureAwait(false);
            Report(bench, inFlight == 1 ? "GetDeviceList (small) calls, one at a time (warm)" : $"GetDeviceList (small) calls, {inFlight} in flight (warm; grpcio: {inFlight} threads)", warm, grpcioMissing);
        }
    }

    private static void Report(Bench bench, string measure, Comparison result, string? grpcioMissing)
    {
        string value = Bench.Format(result.Value) + " calls/s";
        if (grpcioMissing is not null) bench.Skip(World, measure, "grpcio", grpcioMissing);
        else bench.Add(new BenchRow(World, measure, value, "grpcio", Bench.Format(result.PeerValue("grpcio")) + " calls/s", result.Ratio("grpcio")));
    }

    /// <summary>Parses a cold child's "calls/s first-answer-ms" line: returns the rate, keeps the time.</summary>
    private static async Task<double> ColdAsync(Task<string> child, List<double> firstAnswers)
    {
        string[] figures = (await child.ConfigureAwait(false)).Split(' ');
        firstAnswers.Add(Bench.ParseNumber(figures[1]));
        return Bench.ParseNumber(figures[0]);
    }

    /// <summary>
    /// A copy of this program whose engine and dependencies are the staged module's (out/DeviceShell/Dependencies,
    /// ReadyToRun-compiled), so that the cold child runs the code a user's first Connect-Gateway runs rather than the
    /// bench's own IL build of the engine.
    /// </summary>
    private static string PrepareColdChild(Bench bench)
    {
        string folder = Path.Combine(bench.Cache, "cold-gateway");
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(AppContext.BaseDirectory)) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        foreach (string file in Directory.GetFiles(Path.Combine(Bench.RepoRoot, "out", "DeviceShell", "Dependencies"), "*.dll"))
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)), overwrite: true);
        return Path.Combine(folder, Path.GetFileName(typeof(GatewaySuite).Assembly.Location));
    }

    /// <summary>Runs the cold child's cold-gateway mode in a fresh process.</summary>
    private static Task<string> ColdOursAsync(string coldChild, string host, int port, string ca) =>
        Bench.RunAsync("dotnet", new[] { coldChild, "cold-gateway", host, Native.Text(port), ca, Native.Text(ColdWindow.TotalSeconds) }, TimeSpan.FromMinutes(2));

    /// <summary>
    /// The child: connects and calls GetDeviceList one at a time; prints the calls completed within the window from the
    /// start of the connect, and the milliseconds to the first answer.
    /// </summary>
    public static async Task<int> ColdChildAsync(string[] args)
    {
        var window = TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture));
        var clock = Stopwatch.StartNew();
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = args[0], Port = int.Parse(args[1], CultureInfo.InvariantCulture), CaCertificateFile = args[2], Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None).ConfigureAwait(false);
        long calls = 0;
        double firstAnswer = 0;
        while (true)
        {
            await session.GetDevicesAsync(CancellationToken.None).ConfigureAwait(false);
            if (calls == 0 && firstAnswer == 0) firstAnswer = clock.Elapsed.TotalMilliseconds;
            if (clock.Elapsed > window) break;
            calls++;
        }
        Console.WriteLine(FormattableString.Invariant($"{calls / window.TotalSeconds:0.0} {firstAnswer:0.0}"));
        return 0;
    }
}
