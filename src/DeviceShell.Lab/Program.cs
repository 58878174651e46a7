using System.Runtime.InteropServices;
using DeviceShell.Lab.Hosting;
using Microsoft.Extensions.Logging;

// The Lab host: starts the simulators named on the command line, prints one JSON line with their
// endpoints when all listen, then logs to stderr until Ctrl+C (unless --ignore-interrupt), SIGTERM or stdin closes.
LabCommandLine commandLine;
try
{
    commandLine = LabCommandLine.Parse(args, LabHost.Available.Keys.ToArray());
    commandLine.AddEnvironmentSettings(Environment.GetEnvironmentVariables());
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"DeviceShell.Lab: {ex.Message} Try --help.");
    return 2;
}

if (commandLine.Help || commandLine.Simulators.Count == 0)
{
    Console.Error.Write(LabCommandLine.HelpText(LabHost.Available.Select(p => (p.Key, p.Value.Description))));
    return commandLine.Help ? 0 : 2;
}

using var loggerFactory = LabHost.CreateStderrLoggerFactory(commandLine.Verbose ? LogLevel.Debug : LogLevel.Information);
var log = loggerFactory.CreateLogger("DeviceShell.Lab");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    if (commandLine.IgnoreInterrupt) log.LogInformation("Ctrl+C ignored (--ignore-interrupt): the lab stops when stdin closes or on SIGTERM.");
    else stop.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });

LabHost host;
try
{
    host = await LabHost.StartAsync(
        commandLine.Simulators.Select(s => (s.Name, new LabSimulatorOptions(commandLine.Bind, s.Port, s.Settings, loggerFactory))),
        stop.Token);
}
catch (LabPortInUseException ex)
{
    log.LogError("Could not start the lab: {Message}", ex.Message);
    return LabPortInUseException.ExitCode;
}
catch (Exception ex) when (ex is ArgumentException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
{
    log.LogError("Could not start the lab: {Message}", ex.Message);
    return 1;
}

await using (host)
{
    Console.Out.WriteLine(host.EndpointLine());
    Console.Out.Flush();
    log.LogInformation("Lab ready: {Endpoints}", host.EndpointLine());
    if (!commandLine.IgnoreStdin)
    {
        _ = Task.Run(async () =>
        {
            // stdin carries control lines (answered on stdout, one line each); when it closes we stop,
            // which also covers a parent process that died.
            string? line;
            while ((line = await Console.In.ReadLineAsync(stop.Token)) is not null)
            {
                if (line.Length == 0) continue;
                string answer = await host.ControlAsync(line, stop.Token);
                lock (Console.Out) { Console.Out.WriteLine(answer); Console.Out.Flush(); }
            }
            stop.Cancel();
        });
    }
    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
        log.LogInformation("Stopping the lab.");
    }
}
return 0;
