using System.Diagnostics;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// Debian's grpcio (python3-grpcio, python3-protobuf, protobuf-compiler, protobuf-compiler-grpc) as the
/// reference gRPC implementation. Stubs are generated once per run from our own .proto files.
/// </summary>
internal static class PythonGrpc
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(FindMissing);
    private static readonly Lazy<string> Stubs = new(GenerateStubs);

    public static string? MissingReason => Missing.Value;


    /// <summary>google/protobuf/*.proto as the Grpc.Tools package ships them, so protoc works without libprotobuf-dev.</summary>
    private static string WellKnownProtos { get; } = TestRepository.Metadata("WellKnownProtos");

    public static string Script(string name) => Path.Combine(TestRepository.Root, "tests", "DeviceShell.Engine.Tests", "Gateway", "Interop", name);

    public static string StubFolder => Stubs.Value;

    private static string? FindMissing()
    {
        // One line naming the packages: the build prints it beside the skipped test.
        if (Run(Python, new[] { "-c", "import grpc, google.protobuf" }, TimeSpan.FromSeconds(20)).Code != 0)
            return $"python3-grpcio python3-protobuf ({Python} cannot import grpc)";
        if (Run(Python, new[] { "-c", "import grpc_tools" }, TimeSpan.FromSeconds(20)).Code != 0 && (!File.Exists("/usr/bin/protoc") || !File.Exists("/usr/bin/grpc_python_plugin")))
            return "protobuf-compiler protobuf-compiler-grpc (neither grpc_tools nor protoc with grpc_python_plugin)";
        return null;
    }

    private static string GenerateStubs()
    {
        string protos = Path.Combine(TestRepository.Root, "src", "DeviceShell.Engine", "Gateway", "Protos");
        string output = Directory.CreateTempSubdirectory("deviceshell-pystubs-").FullName;
        string[] files = { "connect.proto", "device.proto", "err.proto", "google/rpc/status.proto" };
        var arguments = new List<string>();
        bool viaGrpcTools = Run(Python, new[] { "-c", "import grpc_tools" }, TimeSpan.FromSeconds(20)).Code == 0;
        string tool = viaGrpcTools ? Python : "/usr/bin/protoc";
        if (viaGrpcTools) arguments.AddRange(new[] { "-m", "grpc_tools.protoc" });
        arguments.Add("-I" + protos);
        arguments.Add("-I" + WellKnownProtos);
        arguments.Add("--python_out=" + output);
        arguments.Add("--grpc_python_out=" + output);
        if (!viaGrpcTools) arguments.Add("--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin");
        arguments.AddRange(files);
        var (code, stdout, error) = Run(tool, arguments, TimeSpan.FromSeconds(60));
        if (code != 0) throw new InvalidOperationException($"Generating Python stubs failed ({code}): {stdout} {error}");
        return output;
    }

    public static (int Code, string Output, string Error) Run(string file, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, string.Empty, ex.Message);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-2, output.Result, "timed out; " + error.Result);
            }
            process.WaitForExit();
            return (process.ExitCode, output.Result, error.Result);
        }
    }
}

/// <summary>A fact that is skipped, with the reason, when Debian's grpcio is not installed.</summary>
public sealed class PythonGrpcFactAttribute : FactAttribute
{
    public PythonGrpcFactAttribute()
    {
        if (PythonGrpc.MissingReason is { } reason) Skip = $"needs Debian packages (.ci/apt-packages.txt): {reason}";
    }
}
