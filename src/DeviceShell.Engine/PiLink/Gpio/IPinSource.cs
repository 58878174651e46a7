using System.Collections.Concurrent;

namespace DeviceShell.Engine.PiLink.Gpio;

/// <summary>The electrical level of a GPIO input.</summary>
public enum PinLevel
{
    /// <summary>Low: with the pull-up, the button is pressed (the input is tied to GND).</summary>
    Low,
    /// <summary>High: the pull-up holds the input; the button is released.</summary>
    High,
}

/// <summary>One GPIO input line configured with the internal pull-up, as the button server needs it.</summary>
public interface IPinSource : IDisposable
{
    /// <summary>Where the level comes from, for messages and views (e.g. "/dev/gpiochip0 line 8").</summary>
    string Description { get; }

    /// <summary>True for a simulated line (Set-PiButtonState drives it), false for real GPIO hardware.</summary>
    bool IsSimulated { get; }

    /// <exception cref="Sessions.DeviceException">When the line cannot be read any more.</exception>
    PinLevel Read();
}

/// <summary>
/// A button wired to GND on an input with pull-up, without hardware: it reads High until <see cref="Pressed"/> is set.
/// Lines are process-wide per (chip, line) through <see cref="Line"/>, so Start-PiButtonServer -Simulated,
/// Set-PiButtonState and Get-PiButtonState -Simulated all act on the same simulated button.
/// </summary>
internal sealed class SimulatedPinSource : IPinSource
{
    private static readonly ConcurrentDictionary<(int Chip, int Line), SimulatedPinSource> Lines = new();
    private volatile bool _pressed;

    public SimulatedPinSource(int chip, int line)
    {
        Chip = chip;
        LineNumber = line;
    }

    /// <summary>The process-wide simulated line (chip, line), created released on first use.</summary>
    public static SimulatedPinSource Line(int chip, int line) => Lines.GetOrAdd((chip, line), key => new SimulatedPinSource(key.Chip, key.Line));

    public int Chip { get; }

    public int LineNumber { get; }

    /// <summary>Pressed pulls the line to GND (Low); released, the pull-up holds it High.</summary>
    public bool Pressed
    {
        get => _pressed;
        set => _pressed = value;
    }

    public string Description => $"simulated chip {Chip} line {LineNumber}";

    public bool IsSimulated => true;

    public PinLevel Read() => _pressed ? PinLevel.Low : PinLevel.High;

    /// <summary>Nothing to release: the simulated line outlives the servers that read it.</summary>
    public void Dispose()
    {
    }
}
