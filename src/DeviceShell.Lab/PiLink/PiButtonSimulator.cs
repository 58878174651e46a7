using System.Globalization;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;
using Microsoft.Extensions.Logging;

namespace DeviceShell.Lab.PiLink;

/// <summary>
/// The tutorial's button server on a simulated button: the engine's <see cref="PiButtonServer"/> with a simulated
/// pin source of its own. Setting <c>--pibutton-pin N</c> names the line it reports (default 8);
/// <c>--pibutton-idle-timeout SECONDS</c> disconnects a silent client (default 30, as the engine's; 0 never).
/// With <c>--verbose</c> every state change and message is logged, quoted and cut (a peer chooses that text).
/// <c>--pibutton-replay FILE</c> serves a Pi link recording (<see cref="PiLinkReplay"/>), answering what it does not
/// cover as the button would; <c>--pibutton-replay-speed X</c> scales its pace (default 1).
/// Control commands: <c>press</c>, <c>release</c>, <c>set {"pressed":true|false}</c>, <c>state</c>;
/// each answers <c>{"pressed":bool,"pin":N}</c>. <c>replay-report</c> answers what the replay saw (see <see cref="PiLinkReplay.Report"/>), null without a replay.
/// </summary>
[LabSimulator("pibutton", "Pi button server (tcpcom, answers go with Button pressed/released)")]
public sealed class PiButtonSimulator : ILabSimulator, ILabControllable, IReplayReporter
{
    private SimulatedPinSource? _pin;
    private PiLinkServer? _server;
    private PiLinkReplay? _replay;

    public Task<LabSimulatorEndpoint> StartAsync(LabSimulatorOptions options, CancellationToken cancellationToken)
    {
        var log = options.LoggerFactory.CreateLogger<PiButtonSimulator>();
        int pin = PiButton.DefaultPin;
        if (options.Setting("pin") is string text && !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out pin))
            throw new ArgumentException($"--pibutton-pin takes a line number, not '{text}'.");
        var idleTimeout = PiButtonServer.DefaultIdleTimeout;
        if (options.Setting("idle-timeout") is string idle)
        {
            if (!double.TryParse(idle, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) || seconds > 86400)
                throw new ArgumentException($"--pibutton-idle-timeout takes seconds (0 to 86400, 0 never), not '{idle}'.");
            idleTimeout = TimeSpan.FromSeconds(seconds);
        }
        // Not the process-wide line: two labs (or a lab and a test) in one process must not share a button.
        _pin = new SimulatedPinSource(0, pin);
        var serverOptions = PiButtonServer.DefaultOptions with
        {
            BindAddress = options.Address,
            IdleTimeout = idleTimeout > TimeSpan.Zero ? idleTimeout : null,
        };
        var button = new PiButton(_pin, 0, pin);
        if (ReplaySetting.From(options, "pibutton") is var (recording, speed)) _replay = PiLinkReplay.Load(recording, speed);
        var replay = _replay;
        _server = PiButtonServer.Create(button, options.Port, serverOptions, warn: message => log.LogWarning("{Message}", message),
            responder: replay is null ? null : text => replay.Answer(text, t => PiButtonServer.Answer(button, t)));
        replay?.Attach(_server);
        if (log.IsEnabled(LogLevel.Debug))
            _server.MessageReceived += (_, item) => log.LogDebug("pibutton {State} {Text}", item.StateName, LogText.Quote(item.Text));
        try
        {
            _server.Start();
        }
        catch (DeviceException ex)
        {
            // The host reports I/O failures as a clean start failure (PORT_IN_USE is one).
            throw new IOException(ex.Message, ex);
        }
        log.LogInformation("Pi button server listening on {Address}:{Port} (simulated pin {Pin})", options.Address, _server.Port, pin);
        return Task.FromResult(new LabSimulatorEndpoint(options.Address.ToString(), _server.Port));
    }

    void ILabControllable.AddCommands(LabCommandTable commands) => commands
        .On((PressPiButton _) => Set(true))
        .On((ReleasePiButton _) => Set(false))
        .On((SetPiButton command) => Set(command.Pressed))
        .On((GetPiButtonState _) => State());

    public LabReplayReport? ReplayReport() => _replay?.Report();

    private LabPiButtonState Set(bool pressed)
    {
        Pin.Pressed = pressed;
        return State();
    }

    private LabPiButtonState State() => new(Pin.Pressed, Pin.LineNumber);

    private SimulatedPinSource Pin => _pin ?? throw new InvalidOperationException("The Pi button simulator is not running.");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync().ConfigureAwait(false);
    }
}
