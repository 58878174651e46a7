using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Lab.Gateway;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>
/// Interop/connect_server.py: a gsdk.connect server on Debian's grpcio with grpcio's default settings, on a free
/// loopback port, serving a certificate of <see cref="Certificates"/>. Counts the lines it prints after the port.
/// </summary>
internal sealed class GrpcioConnectServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Task _reading;
    private int _subscriptions;

    private GrpcioConnectServer(Process process, GatewayCertificates certificates, int port)
    {
        _process = process;
        Certificates = certificates;
        Port = port;
        _reading = Task.Run(ReadLinesAsync);
    }

    public GatewayCertificates Certificates { get; }

    public int Port { get; }

    /// <summary>SubscribeStatus calls the server has seen (quiet mode only).</summary>
    public int Subscriptions => Volatile.Read(ref _subscriptions);

    public static async Task<GrpcioConnectServer> StartAsync(bool quiet = false)
    {
        var certificates = GatewayCertificates.Create();
        string folder = Path.GetDirectoryName(certificates.CaFile)!;
        string certFile = Path.Combine(folder, "server.crt");
        string keyFile = Path.Combine(folder, "server_key.pem");
        await File.WriteAllTextAsync(certFile, certificates.Server.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, certificates.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var start = new ProcessStartInfo(PythonGrpc.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { PythonGrpc.Script("connect_server.py"), PythonGrpc.StubFolder, certFile, keyFile, quiet ? "quiet" : "normal" })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start)!;
        string? portLine = await process.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.Long);
        if (!int.TryParse(portLine, out int port))
        {
            string error = process.HasExited ? await process.StandardError.ReadToEndAsync() : "(still running)";
            process.Kill(entireProcessTree: true);
            process.Dispose();
            certificates.Dispose();
            throw new InvalidOperationException($"the server printed '{portLine}': {error}");
        }
        return new GrpcioConnectServer(process, certificates, port);
    }

    private async Task ReadLinesAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == "subscribe") Interlocked.Increment(ref _subscriptions);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        await _reading.Within();
        _process.Dispose();
        Certificates.Dispose();
    }
}
