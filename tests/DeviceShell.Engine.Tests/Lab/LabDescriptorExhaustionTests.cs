using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Engine.Tests.Lab;

/// <summary>
/// docs/design/decisions.md §12.5: a Lab whose file descriptors run out must go on serving once they free up. The Lab runs as a
/// child process under a low <c>ulimit -n</c> (as users start it), so exhausting its descriptors cannot touch the tests.
/// </summary>
public class LabDescriptorExhaustionTests
{
    /// <summary>Low enough to exhaust with a few hundred connections; .NET itself needs about 100 to start.</summary>
    private const int DescriptorLimit = 160;

    [Fact]
    public async Task Brick_daemon_and_Pi_button_server_serve_again_after_descriptors_ran_out()
    {
        using var lab = StartLabProcess(DescriptorLimit, "--brick", "0", "--pibutton", "0");
        try
        {
            string line = await lab.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.LabStart) ?? throw new InvalidOperationException("the Lab printed no endpoint line");
            var endpoints = DeviceLab.ParseEndpoints(line).ToDictionary(e => e.Simulator);
            int brickPort = endpoints["brick"].Port, piPort = endpoints["pibutton"].Port;

            // Enough connections that the Lab's accepts fail with EMFILE for a while, on both servers.
            var held = new List<Socket>();
            try
            {
                for (int i = 0; i < DescriptorLimit * 2; i++) held.Add(await ConnectAsync(brickPort));
                for (int i = 0; i < 20; i++) held.Add(await ConnectAsync(piPort));
                await Task.Delay(TimeSpan.FromSeconds(1)); // the accept loops run into the limit now
            }
            finally
            {
                foreach (var socket in held) socket.Dispose();
            }
            if (lab.HasExited) Assert.Fail("the Lab died at descriptor exhaustion: " + await lab.StandardError.ReadToEndAsync().WaitAsync(TestTimeouts.Short));

            // Both servers answer a fresh client once descriptors are free again (the back-off is at most 1 s).
            var devices = await Eventually.Succeeds(async () =>
            {
                await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = brickPort, AutoReconnect = false });
                var found = await session.EnumerateAsync(TimeSpan.FromSeconds(2));
                return found.Count > 0 ? found : throw new TimeoutException("no enumerate answer");
            });
            Assert.NotEmpty(devices);
            string reply = await Eventually.Succeeds(() => PiGoAsync(piPort));
            Assert.StartsWith("Button ", reply, StringComparison.Ordinal);
            Assert.False(lab.HasExited, "the Lab exited after serving again");
        }
        finally
        {
            if (!lab.HasExited) lab.Kill(entireProcessTree: true);
            await lab.WaitForExitAsync().WaitAsync(TestTimeouts.Long);
        }
    }

    /// <summary>
    /// docs/design/decisions.md §25.5: the Kestrel ports (Webifi relay and gateway) under the same flood; the Lab used to abort
    /// ("Out of memory.", SIGABRT) once the idle connections had taken its descriptors.
    /// </summary>
    [Fact]
    public async Task Webifi_relay_and_gateway_serve_again_after_descriptors_ran_out()
    {
        using var lab = StartLabProcess(KestrelDescriptorLimit, "--webifi", "0", "--gateway", "0");
        try
        {
            string line = await lab.StandardOutput.ReadLineAsync().WaitAsync(TestTimeouts.LabStart) ?? throw new InvalidOperationException("the Lab printed no endpoint line");
            var endpoints = DeviceLab.ParseEndpoints(line).ToDictionary(e => e.Simulator);
            int webifiPort = endpoints["webifi"].Port, gatewayPort = endpoints["gateway"].Port;

            var held = new List<Socket>();
            try
            {
                // Connections past the budget are closed at once (or reset while the backlog is full): that is the point.
                int refused = 0;
                for (int i = 0; i < KestrelDescriptorLimit * 2 && refused < 20; i++) refused += await TryConnectAsync(webifiPort, held) ? 0 : 1;
                for (int i = 0; i < 40 && refused < 40; i++) refused += await TryConnectAsync(gatewayPort, held) ? 0 : 1;
                // Requests on the held connections make Kestrel work for them (a budget-less Lab runs out here).
                foreach (var socket in held.Take(KestrelDescriptorLimit))
                {
                    try
                    {
                        await socket.SendAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"), SocketFlags.None);
                    }
                    catch (SocketException)
                    {
                        // Closed by the Lab.
                    }
                }
                await Task.Delay(TimeSpan.FromSeconds(1)); // the accept loops run into the limit now
            }
            finally
            {
                foreach (var socket in held) socket.Dispose();
            }
            if (lab.HasExited) Assert.Fail("the Lab died at descriptor exhaustion: " + await lab.StandardError.ReadToEndAsync().WaitAsync(TestTimeouts.Short));

            using var http = new HttpClient();
            string answer = await Eventually.Succeeds(async () =>
            {
                using var response = await http.PostAsync($"http://127.0.0.1:{webifiPort}/", new StringContent("~p=1~cn=webifi~cp=pswd"));
                return await response.Content.ReadAsStringAsync();
            });
            Assert.StartsWith("~e=0", answer, StringComparison.Ordinal);
            string protocol = await Eventually.Succeeds(() => TlsHandshakeAsync(gatewayPort));
            Assert.Equal("h2", protocol);
            Assert.False(lab.HasExited, "the Lab exited after serving again");
        }
        finally
        {
            if (!lab.HasExited) lab.Kill(entireProcessTree: true);
            await lab.WaitForExitAsync().WaitAsync(TestTimeouts.Long);
        }
    }

    /// <summary>False when the connection was reset or not accepted in time (the Lab's budget is spent).</summary>
    private static async Task<bool> TryConnectAsync(int port, List<Socket> held)
    {
        try
        {
            held.Add(await ConnectAsync(port));
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>The ASP.NET Core Lab needs more descriptors to start than the plain socket servers.</summary>
    private const int KestrelDescriptorLimit = 256;

    /// <summary>A TLS handshake with the gateway (HTTP/2 offered); returns the protocol it chose.</summary>
    private static async Task<string> TlsHandshakeAsync(int port)
    {
        using var socket = await ConnectAsync(port);
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(socket), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = new List<System.Net.Security.SslApplicationProtocol> { System.Net.Security.SslApplicationProtocol.Http2 },
        }).WaitAsync(TestTimeouts.Short);
        return tls.NegotiatedApplicationProtocol.ToString();
    }

    /// <summary>The Lab built beside this test run (its own output folder carries its runtime config and dependencies).</summary>
    internal static string LabAssembly()
    {
        string bin = Path.Combine(TestRepository.Root, "src", "DeviceShell.Lab", "bin", TestRepository.Configuration);
        return Directory.EnumerateFiles(bin, "DeviceShell.Lab.dll", SearchOption.AllDirectories).First();
    }

    internal static Process StartLabProcess(int descriptorLimit, params string[] arguments)
    {
        var start = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardInput = true, // the Lab stops when its stdin closes: a crashed test leaves no Lab behind
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"ulimit -n {descriptorLimit} && exec dotnet \"$@\"");
        start.ArgumentList.Add("lab");
        start.ArgumentList.Add(LabAssembly());
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the Lab");
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", port).Within();
        return socket;
    }

    /// <summary>The tcpcom exchange the button server answers: "go" NUL, reply up to NUL.</summary>
    private static async Task<string> PiGoAsync(int port)
    {
        using var socket = await ConnectAsync(port);
        await socket.SendAsync(Encoding.ASCII.GetBytes("go\0"), SocketFlags.None);
        var reply = new List<byte>();
        var buffer = new byte[64];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0) throw new IOException("the button server closed the connection without a reply");
            int end = Array.IndexOf(buffer, (byte)0, 0, read);
            reply.AddRange(buffer.AsSpan(0, end < 0 ? read : end).ToArray());
            if (end >= 0) return Encoding.ASCII.GetString(reply.ToArray());
        }
    }
}
