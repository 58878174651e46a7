using System.Text.Json.Nodes;

namespace DeviceShell.Engine.Lab;

/// <summary>The typed commands of one simulator of a running lab; every wait is DeviceLab's default control timeout unless given.</summary>
internal abstract class LabSimulatorClient
{
    private readonly DeviceLab _lab;
    private readonly string _simulator;

    protected LabSimulatorClient(DeviceLab lab, string simulator)
    {
        _lab = lab;
        _simulator = simulator;
    }

    protected Task<TResult> SendAsync<TCommand, TResult>(TCommand command, TimeSpan? timeout, CancellationToken cancellationToken)
        where TCommand : ILabCommand<TResult> =>
        _lab.SendAsync<TCommand, TResult>(_simulator, command, timeout, cancellationToken);
}

/// <summary>The Brick Daemon simulator ("brick").</summary>
internal sealed class BrickLabClient(DeviceLab lab) : LabSimulatorClient(lab, Name)
{
    public const string Name = "brick";

    public Task<LabBrickDevice> AddDeviceAsync(AddBrickDevice device, CancellationToken cancellationToken = default) =>
        SendAsync<AddBrickDevice, LabBrickDevice>(device, null, cancellationToken);

    public Task<IReadOnlyList<LabBrickDevice>> ListDevicesAsync(CancellationToken cancellationToken = default) =>
        SendAsync<ListBrickDevices, IReadOnlyList<LabBrickDevice>>(new ListBrickDevices(), null, cancellationToken);

    public Task SetInputAsync(string uid, string name, JsonNode? value, CancellationToken cancellationToken = default) =>
        SendAsync<SetBrickInput, LabCommandDone>(new SetBrickInput(uid, name, value), null, cancellationToken);

    public Task RemoveDeviceAsync(string uid, CancellationToken cancellationToken = default) =>
        SendAsync<RemoveBrickDevice, LabCommandDone>(new RemoveBrickDevice(uid), null, cancellationToken);
}

/// <summary>The gateway simulator ("gateway").</summary>
internal sealed class GatewayLabClient(DeviceLab lab) : LabSimulatorClient(lab, Name)
{
    public const string Name = "gateway";

    public Task<LabGatewayDevice> AddDeviceAsync(AddGatewayDevice device, CancellationToken cancellationToken = default) =>
        SendAsync<AddGatewayDevice, LabGatewayDevice>(device, null, cancellationToken);

    public Task RemoveDeviceAsync(uint deviceId, CancellationToken cancellationToken = default) =>
        SendAsync<RemoveGatewayDevice, LabCommandDone>(new RemoveGatewayDevice(deviceId), null, cancellationToken);
}

/// <summary>The Pi button simulator ("pibutton").</summary>
internal sealed class PiButtonLabClient(DeviceLab lab) : LabSimulatorClient(lab, Name)
{
    public const string Name = "pibutton";

    public Task<LabPiButtonState> SetAsync(bool pressed, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        SendAsync<SetPiButton, LabPiButtonState>(new SetPiButton(pressed), timeout, cancellationToken);
}

/// <summary>The Webifi relay ("webifi").</summary>
internal sealed class WebifiLabClient(DeviceLab lab) : LabSimulatorClient(lab, Name)
{
    public const string Name = "webifi";

    public Task<IReadOnlyList<LabWebifiSession>> SessionsAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        SendAsync<ListWebifiSessions, IReadOnlyList<LabWebifiSession>>(new ListWebifiSessions(), timeout, cancellationToken);
}
