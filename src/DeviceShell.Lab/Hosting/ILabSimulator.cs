using System.Net;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.Hosting;

/// <summary>
/// Marks a simulator the Lab host can start; <see cref="Name"/> is its command-line option
/// (<c>--brick 4223</c>) and its key in the endpoint JSON line. The host finds simulators by this
/// attribute, so a world adds its simulator without touching the host.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class LabSimulatorAttribute : Attribute
{
    public LabSimulatorAttribute(string name, string description)
    {
        Name = name;
        Description = description;
    }

    public string Name { get; }

    public string Description { get; }
}

/// <summary>A simulated peer. Implementations need a public parameterless constructor.</summary>
public interface ILabSimulator : IAsyncDisposable
{
    /// <summary>Starts listening; returns once connections are accepted.</summary>
    Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken);
}

/// <param name="Address">Where to listen (loopback unless the user asked otherwise).</param>
/// <param name="Port">The port, 0 for a free one.</param>
/// <param name="Settings">The simulator's own options: <c>--brick-secret S</c> arrives as <c>secret = S</c>.</param>
public sealed record LabSimulatorOptions(IPAddress Address, int Port, IReadOnlyDictionary<string, string> Settings, ILoggerFactory LoggerFactory)
{
    public string? Setting(string name) => Settings.TryGetValue(name, out string? value) ? value : null;

    public static LabSimulatorOptions Loopback(int port = 0, IReadOnlyDictionary<string, string>? settings = null, ILoggerFactory? loggerFactory = null) =>
        new(IPAddress.Loopback, port, settings ?? new Dictionary<string, string>(), loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
}

/// <summary>What the host prints for a simulator: {"host":..,"port":..[,"caCertificate":..]}.</summary>
public sealed record LabSimulatorEndpoint(string Host, int Port, string? CaCertificate = null);
