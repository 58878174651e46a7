namespace DeviceShell.Engine.PiLink.Gpio;

/// <summary>What Get-PiButtonState returns: one reading of the button input.</summary>
public sealed class PiButtonState
{
    /// <summary>Records one reading.</summary>
    /// <param name="chip">The GPIO chip number.</param>
    /// <param name="pin">The line offset on the chip.</param>
    /// <param name="level">The level read.</param>
    /// <param name="simulated">True when the line is simulated.</param>
    /// <param name="at">When it was read (local time).</param>
    internal PiButtonState(int chip, int pin, PinLevel level, bool simulated, DateTime at)
    {
        Chip = chip;
        Pin = pin;
        Level = level;
        Simulated = simulated;
        At = at;
    }

    /// <summary>The GPIO chip number (/dev/gpiochip<i>n</i>).</summary>
    public int Chip { get; }

    /// <summary>The line offset on the chip (BCM number on a Raspberry Pi; the tutorial's BOARD pin 24 is 8).</summary>
    public int Pin { get; }

    /// <summary>Pressed = the input reads Low (button to GND, pull-up).</summary>
    public bool Pressed => Level == PinLevel.Low;

    /// <summary>The level read; Low means pressed.</summary>
    public PinLevel Level { get; }

    /// <summary>True when the line is simulated, not real hardware.</summary>
    public bool Simulated { get; }

    /// <summary>When the input was read (local time).</summary>
    public DateTime At { get; }

    /// <summary>"pin N: pressed" or "pin N: released".</summary>
    public override string ToString() => $"pin {Pin}: {(Pressed ? "pressed" : "released")}";
}

/// <summary>A push button on a GPIO input with pull-up (docs/design/pilink-tcpcom.md §10): pressed = Low. Owns its pin source.</summary>
public sealed class PiButton : IDisposable
{
    /// <summary>The tutorial's line: BOARD pin 24 is BCM 8.</summary>
    public const int DefaultPin = 8;

    /// <summary>A button on an open pin source; the button owns the source and disposes it.</summary>
    /// <param name="source">The input line, configured with pull-up.</param>
    /// <param name="chip">The GPIO chip number, for display.</param>
    /// <param name="pin">The line offset, for display.</param>
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

    /// <summary>The input line the button reads.</summary>
    public IPinSource Source { get; }

    /// <summary>The GPIO chip number (/dev/gpiochip<i>n</i>).</summary>
    public int Chip { get; }

    /// <summary>The line offset on the chip (BCM number on a Raspberry Pi).</summary>
    public int Pin { get; }

    /// <summary>Reads the input once.</summary>
    /// <exception cref="Sessions.DeviceException">When the line cannot be read any more.</exception>
    public PiButtonState Read() => new(Chip, Pin, Source.Read(), Source.IsSimulated, DateTime.Now);

    /// <summary>Releases the pin source (the GPIO line request).</summary>
    public void Dispose() => Source.Dispose();
}
