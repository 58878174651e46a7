namespace DeviceShell.Engine.PiLink.Gpio;

/// <summary>What Get-PiButtonState returns: one reading of the button input.</summary>
public sealed class PiButtonState
{
    public PiButtonState(int chip, int pin, PinLevel level, bool simulated, DateTime at)
    {
        Chip = chip;
        Pin = pin;
        Level = level;
        Simulated = simulated;
        At = at;
    }

    public int Chip { get; }

    /// <summary>The line offset on the chip (BCM number on a Raspberry Pi; the tutorial's BOARD pin 24 is 8).</summary>
    public int Pin { get; }

    /// <summary>Pressed = the input reads Low (button to GND, pull-up).</summary>
    public bool Pressed => Level == PinLevel.Low;

    public PinLevel Level { get; }

    public bool Simulated { get; }

    public DateTime At { get; }

    public override string ToString() => $"pin {Pin}: {(Pressed ? "pressed" : "released")}";
}

/// <summary>A push button on a GPIO input with pull-up (docs/design/pilink-tcpcom.md §10): pressed = Low. Owns its pin source.</summary>
public sealed class PiButton : IDisposable
{
    /// <summary>The tutorial's line: BOARD pin 24 is BCM 8.</summary>
    public const int DefaultPin = 8;

    public PiButton(IPinSource source, int chip, int pin)
    {
        Source = source;
        Chip = chip;
        Pin = pin;
    }

    /// <summary>Opens the button on a simulated line or on the Linux GPIO character device /dev/gpiochip<paramref name="chip"/>.</summary>
    /// <exception cref="Sessions.DeviceException">When the chip or line is missing, busy or not accessible.</exception>
    public static PiButton Open(int chip, int pin, bool simulated) =>
        new(simulated ? SimulatedPinSource.Line(chip, pin) : GpioCharDevicePinSource.Open(chip, pin), chip, pin);

    public IPinSource Source { get; }

    public int Chip { get; }

    public int Pin { get; }

    public PiButtonState Read() => new(Chip, Pin, Source.Read(), Source.IsSimulated, DateTime.Now);

    public void Dispose() => Source.Dispose();
}
