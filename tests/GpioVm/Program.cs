using System.Net;
using DeviceShell.Engine.PiLink;
using DeviceShell.Engine.PiLink.Gpio;
using DeviceShell.Engine.Sessions;

// The probe run-vm.sh starts inside the VM: args are the gpio-sim chip (/dev/gpiochipN) and the directory of its sysfs
// attributes (/sys/devices/platform/gpio-sim.N/gpiochipN). It prints what it observed, one "RESULT <check> <observed>"
// line per check (a DeviceException as its ErrorId); GpioCharDeviceVmTests decides what is right.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: GpioVm /dev/gpiochipN /sys/devices/platform/gpio-sim.N/gpiochipN");
    return 2;
}
string chipPath = args[0];
// gpio-sim's side of the wire: writing pull-down to an input line makes it read Low, as a pressed button to GND does.
string simPull = Path.Combine(args[1], $"sim_gpio{GpioVmProbe.Line}", "pull");

PiButton? button = null;
GpioVmProbe.Check("released", () =>
{
    button = new PiButton(GpioCharDevicePinSource.Open(chipPath, GpioVmProbe.Line), 0, GpioVmProbe.Line);
    // gpio-sim starts every line with pull-down, so High here is the pull-up bias our request set.
    return $"{button.Source.Read()} {File.ReadAllText(simPull).Trim()}";
});
GpioVmProbe.Check("pressed", () =>
{
    File.WriteAllText(simPull, "pull-down");
    return button!.Source.Read().ToString();
});
GpioVmProbe.Check("busy", () =>
{
    using var second = GpioCharDevicePinSource.Open(chipPath, GpioVmProbe.Line);
    return "opened";
});
await GpioVmProbe.CheckAsync("server", async () =>
{
    await using var server = PiButtonServer.Create(button!, 0, new PiLinkOptions { BindAddress = IPAddress.Loopback });
    server.Start();
    await using var client = await PiLinkSession.ConnectAsync(new PiLinkConnectOptions
    {
        HostName = "127.0.0.1", Port = server.Port, Link = new PiLinkOptions { OccupiedWait = TimeSpan.FromMilliseconds(200) },
    }, CancellationToken.None).WaitAsync(GpioVmProbe.Bound);
    string whilePressed = (await client.SendAndReceiveReplyAsync(PiButtonServer.Command, GpioVmProbe.Bound)).Text;
    File.WriteAllText(simPull, "pull-up");
    string whileReleased = (await client.SendAndReceiveReplyAsync(PiButtonServer.Command, GpioVmProbe.Bound)).Text;
    return $"{whilePressed}|{whileReleased}";
});
GpioVmProbe.Check("reopened", () =>
{
    // The server disposed the button, so the line is free again; gpio-sim keeps the pull-up set just before.
    using var again = GpioCharDevicePinSource.Open(chipPath, GpioVmProbe.Line);
    return again.Read().ToString();
});
GpioVmProbe.Check("missing-line", () =>
{
    using var missing = GpioCharDevicePinSource.Open(chipPath, 99);
    return "opened";
});
GpioVmProbe.Check("missing-chip", () =>
{
    using var missing = GpioCharDevicePinSource.Open("/dev/gpiochip77", GpioVmProbe.Line);
    return "opened";
});
return 0;

internal static class GpioVmProbe
{
    public const int Line = 3;

    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    public static void Check(string name, Func<string> observe) =>
        CheckAsync(name, () => Task.FromResult(observe())).GetAwaiter().GetResult();

    public static async Task CheckAsync(string name, Func<Task<string>> observe)
    {
        string observed;
        try
        {
            observed = await observe();
        }
        catch (DeviceException error)
        {
            observed = error.ErrorId;
            Console.WriteLine($"DETAIL {name} {error.Message}");
        }
        catch (Exception error)
        {
            observed = $"{error.GetType().Name}: {error.Message}";
        }
        Console.WriteLine($"RESULT {name} {observed}");
    }
}
