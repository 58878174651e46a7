using System.Diagnostics;
using System.Globalization;
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
        await using var lab = await GatewayFixture.StartAsync();
        var (code, output, error) = await Task.Run(() => PythonGrpc.Run(PythonGrpc.Python,
            new[] { PythonGrpc.Script("connect_client.py"), PythonGrpc.StubFolder, "127.0.0.1", lab.Endpoint.Port.ToString(CultureInfo.InvariantCulture), lab.Endpoint.CaCertificate! },
            TimeSpan.FromSeconds(60))).Within(TestTimeouts.Long * 2);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        foreach (string step in new[] { "unary", "search", "streaming", "cancel", "error", "multi-error" })
            Assert.Contains("ok " + step, output);
        await Eventually.True(() => lab.Simulator.Subscribers == 0);
    }

    [PythonGrpcFact]
    public async Task Our_client_talks_to_a_grpcio_server()
    {
        await using var server = await GrpcioConnectServer.StartAsync();
        int port = server.Port;

        // The server holds back the stream's headers until its first change (4 s): connecting must not wait for them.
        var connecting = Stopwatch.StartNew();
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = port, CaCertificateFile = server.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within();
        Assert.True(connecting.ElapsedMilliseconds < 3500, $"connecting took {connecting.ElapsedMilliseconds} ms");
        Assert.Equal(DeviceSessionState.Connected, session.State);
        var devices = await session.GetDevicesAsync(CancellationToken.None).Within();
        Assert.Equal(new uint[] { 1, 2 }, devices.Select(d => d.DeviceId));
        Assert.Equal((GatewayDeviceType.BioliteN2, GatewayDeviceStatus.TlsNotAllowed, true), (devices[1].Type, devices[1].Status, devices[1].UseSsl));

        for (uint id = 10; id < 13; id++)
            Assert.Equal(GatewayDeviceStatus.TcpConnected, (await GatewayFixture.NextAsync(session, c => c.DeviceId == id)).Status);

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

    /// <summary>
    /// A healthy gateway where nothing happens, on grpcio's default settings (which allow one HTTP/2 ping per 5 minutes
    /// while the server sends nothing, and end the connection with too_many_pings after two strikes): the session keeps
    /// its one status stream, with no resubscription and no gap marker.
    /// </summary>
    [PythonGrpcFact]
    public async Task Quiet_status_stream_on_a_default_grpcio_server_stays_one_subscription()
    {
        await using var server = await GrpcioConnectServer.StartAsync(quiet: true);
        await using var session = await GatewaySession.ConnectAsync(new GatewayConnectOptions { HostName = "127.0.0.1", Port = server.Port, CaCertificateFile = server.Certificates.CaFile, Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None).Within();
        await Eventually.True(() => server.Subscriptions == 1);

        var quiet = Stopwatch.StartNew();
        var states = new List<DeviceSessionState>();
        while (quiet.Elapsed < TimeSpan.FromSeconds(65))
        {
            // Polled rather than slept through, so a drop shows as soon as it happens.
            if (session.State != DeviceSessionState.Connected) states.Add(session.State);
            Assert.True(server.Subscriptions == 1, $"SubscribeStatus was called {server.Subscriptions} times in {quiet.Elapsed.TotalSeconds:0.0} s of quiet (states seen: {string.Join(", ", states.Distinct())})");
            await Task.Delay(250);
        }
        Assert.Empty(states);
        Assert.Equal(0, session.Resubscriptions);
        Assert.Equal(0, session.QueuedEvents);
        Assert.NotEmpty(await session.GetDevicesAsync(CancellationToken.None).Within());
    }
}
