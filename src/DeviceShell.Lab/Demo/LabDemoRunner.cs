using DeviceShell.Lab.Hosting;

namespace DeviceShell.Lab.Demo;

/// <summary>Starts every simulator that has a demo on a free loopback port and runs the demos one after another.</summary>
public static class LabDemoRunner
{
    public static async Task<int> RunAsync(TextWriter output, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var demos = typeof(LabDemoRunner).Assembly.GetTypes()
            .Where(t => typeof(ILabDemo).IsAssignableFrom(t) && !t.IsAbstract)
            .Select(t => (ILabDemo)Activator.CreateInstance(t)!)
            .OrderBy(d => d.Simulator, StringComparer.Ordinal)
            .ToList();
        await using var host = await LabHost.StartAsync(
            demos.Select(d => (d.Simulator, LabSimulatorOptions.Loopback(0, null, loggerFactory))), cancellationToken).ConfigureAwait(false);
        output.WriteLine($"DeviceShell Lab demo: {host.EndpointLine()}");
        int failures = 0;
        foreach (var demo in demos)
        {
            output.WriteLine();
            output.WriteLine($"== {demo.Simulator}");
            try
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                limit.CancelAfter(TimeSpan.FromSeconds(60));
                await demo.RunAsync(new LabDemoContext(host, demo.Simulator, output), limit.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures++;
                output.WriteLine($"   failed: {ex.GetType().Name}: {ex.Message}");
            }
        }
        output.WriteLine();
        output.WriteLine(failures == 0 ? "Demo finished." : $"Demo finished with {failures} failure(s).");
        return failures == 0 ? 0 : 1;
    }
}
