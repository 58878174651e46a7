using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using DeviceShell.Engine.Gateway;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Gateway;
using Grpc.Core;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>Both ends of our gateway (Grpc.Net.Client in the engine, Grpc.AspNetCore in the Lab) against another gRPC implementation (Debian's grpcio).</summary>
public sealed class PythonInteropTests
{
    [PythonGrpcFact]
    public async Task Grpcio_client_talks_to_the_gateway_simulator()
    {
        await using var lab = await GatewayLab.StartAsync();
        var (code, output, error) = await Task.Run(() => PythonGrpc.Run(PythonGrpc.Python,
            new[] { PythonGrpc.Script("connect_client.py"), PythonGrpc.StubFolder, "127.0.0.1", lab.Endpoint.Port.ToString(), lab.Endpoint.CaCertificate! },
            TimeSpan.FromSeconds(60))).Within(TestTimeouts.Long * 2);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        foreach (string step in new[] { "unary", "search", "streaming", "cancel", "error", "multi-error" })
            Assert.Contains("ok " + step, output);
        await GatewaySessionTests.WaitUntil(() => lab.Simulator.Subscribers == 0);
    }

    [PythonGrpcFact]
    public async Task Our_client_talks_to_a_grpcio_server()
    {
        using var certificates = GatewayCertificates.Create();
        string folder = Path.GetDirectoryName(certificates.CaFile)!;
        string certFile = Path.Combine(folder, "server.crt");
        string keyFile = Path.Combine(folder, "server_key.pem");
        await File.WriteAllTextAsync(certFile, certificates.Server.ExportCertificatePem());
        await File.WriteAllTextAsync(keyFile, certificates.Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());

        var start = new ProcessStartInfo(PythonGrpc.Python) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { PythonGrpc.Script("connect_server.py"), PythonGrpc.StubFolder, certFile, keyFile }) start.ArgumentList.Add(argument);
        using var server = Process.Start(start)!;
        try
        {
            string? portLine = await server.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.Long);
            Assert.True(int.TryParse(portLine, out int port), $"the server printed '{portLine}': {await ReadErrorAsync(server)}");

            // The server holds back the stream's headers until its first change (4 s): connecting must not wait for them.
            var connecting = Stopwatch.StartNew();
            await using var session = await GatewaySession.ConnectAsync("127.0.0.1", port, certificates.CaFile, TimeSpan.FromSeconds(5), CancellationToken.None).Within();
            Assert.True(connecting.ElapsedMilliseconds < 3500, $"connecting took {connecting.ElapsedMilliseconds} ms");
            Assert.Equal(DeviceSessionState.Connected, session.State);
            var devices = await session.GetDevicesAsync(CancellationToken.None).Within();
            Assert.Equal(new uint[] { 1, 2 }, devices.Select(d => d.DeviceId));
            Assert.Equal((GatewayDeviceType.BioliteN2, GatewayDeviceStatus.TlsNotAllowed, true), (devices[1].Type, devices[1].Status, devices[1].UseSsl));

            for (uint id = 10; id < 13; id++)
                Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayLab.NextAsync(session, c => c.DeviceId == id)).Status);

            var notFound = await Assert.ThrowsAsync<DeviceException>(() => session.DisconnectDevicesAsync(new uint[] { 5 }, CancellationToken.None)).Within();
            Assert.Equal((DeviceErrorKind.NotFound, "GatewayNotFound"), (notFound.Kind, notFound.ErrorId));
            Assert.Contains("no such device: [5] (ünïcode 100%)", notFound.Message);

            var errors = await session.SetSslAsync(new uint[] { 7, 700 }, true, CancellationToken.None).Within();
            var failed = Assert.Single(errors);
            Assert.Equal((700u, StatusCode.FailedPrecondition, "not connected"), (failed.DeviceId, failed.Code, failed.Message));

            // The search's deadline is the search time plus CallTimeout; the server sleeps for the search time and then some.
            session.CallTimeout = TimeSpan.FromMilliseconds(300);
            var watch = Stopwatch.StartNew();
            var deadline = await Assert.ThrowsAsync<DeviceException>(() => session.SearchAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None)).Within();
            Assert.Equal((DeviceErrorKind.Timeout, "GatewayDeadlineExceeded"), (deadline.Kind, deadline.ErrorId));
            Assert.True(watch.ElapsedMilliseconds < 2500, $"the deadline took {watch.ElapsedMilliseconds} ms");
            session.CallTimeout = TimeSpan.FromSeconds(5);

            var unimplemented = await Assert.ThrowsAsync<DeviceException>(() => session.GetPendingDevicesAsync(CancellationToken.None)).Within();
            Assert.Equal((DeviceErrorKind.NotSupported, "GatewayUnimplemented"), (unimplemented.Kind, unimplemented.ErrorId));
        }
        finally
        {
            server.StandardInput.Close();
            if (!server.WaitForExit(5000)) server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<string> ReadErrorAsync(Process process)
    {
        if (!process.HasExited) return "(still running)";
        return await process.StandardError.ReadToEndAsync();
    }
}
