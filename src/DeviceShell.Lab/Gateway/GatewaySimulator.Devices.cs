using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Gsdk.Connect;
using DeviceType = Gsdk.Device.Type;
using RichStatus = DeviceShell.Engine.Gateway.Protocol.Rpc.Status;
using Status = Gsdk.Connect.Status;

namespace DeviceShell.Lab.Gateway;

/// <summary>The simulated subnet and what the Connect calls do to it: connect, async connections, accept filter, search, slaves, mode and SSL.</summary>
public sealed partial class GatewaySimulator
{
    /// <summary>Devices on the simulated subnet (present or not).</summary>
    public int DeviceCount
    {
        get { lock (_gate) { return _subnet.Count; } }
    }

    /// <summary>The subnet of the Python tutorial: three devices to connect to, one device-to-server device waiting to be admitted.</summary>
    private void AddTutorialDevices()
    {
        Put(new SimulatedDevice(544140286, DeviceType.BioentryW2, "192.168.0.110"));
        Put(new SimulatedDevice(546835041, DeviceType.BiostationL2, "192.168.0.104"));
        Put(new SimulatedDevice(542193321, DeviceType.BioliteN2, "192.168.0.120"));
        Put(new SimulatedDevice(939342898, DeviceType.BioentryW2, "192.168.0.130", deviceToServer: true));
    }

    private void AddGeneratedDevices(int count)
    {
        for (int i = 0; i < count; i++)
            Put(new SimulatedDevice((uint)(100_000 + i), DeviceType.BioentryW2, $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"));
    }

    private void Put(SimulatedDevice device) => _subnet[device.Id] = device;

    /// <summary>
    /// Adds a device to the subnet, or brings back one that was removed (async connections then reconnect).
    /// <paramref name="type"/> is the proto name (BIOENTRY_W2), the C# name (BioentryW2) or the number.
    /// </summary>
    public void AddDevice(uint id, string type, string ipAddress, int port = 51211, bool deviceToServer = false) =>
        AddDevice(id, ParseType(type), ipAddress, port, deviceToServer);

    private SimulatedDevice AddDevice(uint id, DeviceType type, string ipAddress, int port, bool deviceToServer)
    {
        SimulatedDevice device;
        lock (_gate)
        {
            if (_subnet.TryGetValue(id, out var known))
            {
                known.Present = true;
                device = known;
            }
            else
            {
                device = new SimulatedDevice(id, type, ipAddress, port, deviceToServer);
                Put(device);
            }
            Reconcile();
        }
        return device;
    }

    /// <summary>Takes a device off the subnet: its connection drops; async connections keep retrying.</summary>
    public void RemoveDevice(uint id)
    {
        lock (_gate)
        {
            if (!_subnet.TryGetValue(id, out var device)) throw new ArgumentException($"There is no simulated device {id}.");
            device.Present = false;
            Reconcile();
        }
    }


    /// <summary>Runs a handler under the state lock (every RPC but search and the stream is quick).</summary>
    private Task<T> Run<T>(Func<T> handler)
    {
        lock (_gate) { return Task.FromResult(handler()); }
    }

    private ConnectResponse ConnectDevice(ConnectInfo info)
    {
        var device = FindReachable(info.IPAddr, info.Port == 0 ? 51211 : info.Port)
            ?? throw Failure(StatusCode.Unavailable, $"Cannot connect to {info.IPAddr}:{info.Port}: no device answers.");
        if (device.SslEnabled != info.UseSSL)
            throw Failure(StatusCode.Unavailable, $"Cannot connect to {info.IPAddr}:{info.Port}: the device has SSL {(device.SslEnabled ? "enabled" : "disabled")} but useSSL is {info.UseSSL}.");
        if (!_managed.TryGetValue(device.Id, out var managed) || !managed.Connected)
        {
            managed = new ManagedDevice { Device = device, Kind = ManagedKind.Sync, IPAddress = info.IPAddr, Port = device.Port, UseSsl = info.UseSSL };
            _managed[device.Id] = managed;
            SetStatus(managed, info.UseSSL ? Status.TlsConnected : Status.TcpConnected);
        }
        return new ConnectResponse { DeviceID = device.Id };
    }

    private SimulatedDevice? FindReachable(string ip, int port) =>
        _subnet.Values.FirstOrDefault(d => d.Present && d.IPAddress == ip && d.Port == port && d.Mode == ConnectionMode.ServerToDevice);

    /// <summary>
    /// A request that lists a device twice is refused as a whole before anything changes: what the second mention should
    /// mean (connect twice? count one failure or two?) is undefined, and half-applying it would leave a surprise.
    /// </summary>
    private static void RequireDistinct(IEnumerable<uint> ids)
    {
        var seen = new HashSet<uint>();
        foreach (uint id in ids)
        {
            if (!seen.Add(id)) throw Failure(StatusCode.InvalidArgument, $"Device {id} is listed more than once in the request.");
        }
    }

    private AddAsyncConnectionResponse AddAsync(AddAsyncConnectionRequest request)
    {
        RequireDistinct(request.ConnectInfos.Select(info => info.DeviceID));
        foreach (var info in request.ConnectInfos)
        {
            if (_managed.TryGetValue(info.DeviceID, out var existing) && existing.Kind == ManagedKind.Async) continue;
            var device = _subnet.TryGetValue(info.DeviceID, out var known) ? known : new SimulatedDevice(info.DeviceID, DeviceType.Unknown, info.IPAddr, info.Port) { Present = false };
            _managed[info.DeviceID] = new ManagedDevice { Device = device, Kind = ManagedKind.Async, IPAddress = info.IPAddr, Port = info.Port == 0 ? 51211 : info.Port, UseSsl = info.UseSSL };
        }
        _wake.Release();
        return new AddAsyncConnectionResponse();
    }

    private DeleteAsyncConnectionResponse DeleteAsync(DeleteAsyncConnectionRequest request)
    {
        RequireDistinct(request.DeviceIDs);
        RequireManaged(request.DeviceIDs, m => m.Kind == ManagedKind.Async, "is not an async connection");
        foreach (uint id in request.DeviceIDs) Drop(_managed[id]);
        return new DeleteAsyncConnectionResponse();
    }

    private SetAcceptFilterResponse SetFilter(SetAcceptFilterRequest request)
    {
        _filter = request.Filter?.Clone() ?? new AcceptFilter();
        Reconcile();
        return new SetAcceptFilterResponse();
    }

    private T Disconnect<T>(IEnumerable<uint> ids, T response)
    {
        foreach (uint id in ids)
        {
            var managed = _managed[id];
            if (managed.Kind == ManagedKind.Async) SetStatus(managed, Status.Disconnected); // retried by the reconnect loop
            else Drop(managed);
            _slaves.Remove(id);
        }
        return response;
    }

    private DisconnectResponse Disconnect(IList<uint> ids)
    {
        RequireDistinct(ids);
        RequireManaged(ids, _ => true, "");
        return Disconnect(ids, new DisconnectResponse());
    }

    private void RequireManaged(IEnumerable<uint> ids, Func<ManagedDevice, bool> condition, string failure)
    {
        foreach (uint id in ids)
        {
            if (!_managed.TryGetValue(id, out var managed)) throw Failure(StatusCode.NotFound, $"Device {id} is not managed by the gateway.");
            if (!condition(managed)) throw Failure(StatusCode.FailedPrecondition, $"Device {id} {failure}.");
        }
    }

    private void Drop(ManagedDevice managed)
    {
        _managed.Remove(managed.Device.Id);
        if (managed.Status != Status.Disconnected) Publish(managed.Device.Id, Status.Disconnected);
    }

    private async Task<SearchDeviceResponse> SearchAsync(SearchDeviceRequest request, ServerCallContext context)
    {
        // Like the real search, answers are collected for the whole timeout (capped so a typo cannot hang a lab).
        await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(request.Timeout, 60_000u)), context.CancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            return new SearchDeviceResponse
            {
                DeviceInfos =
                {
                    _subnet.Values.Where(d => d.Present).Select(d => new SearchDeviceInfo
                    {
                        DeviceID = d.Id, Type = d.Type, UseDHCP = true, ConnectionMode = d.Mode, IPAddr = d.IPAddress, Port = d.Port, UseSSL = d.SslEnabled,
                        ServerAddr = d.Mode == ConnectionMode.DeviceToServer ? "127.0.0.1" : string.Empty,
                    }),
                },
            };
        }
    }

    private SetSlaveDeviceResponse SetSlaves(SetSlaveDeviceRequest request)
    {
        RequireDistinct(request.SlaveDeviceInfos.Select(s => s.DeviceID));
        RequireManaged(request.SlaveDeviceInfos.Select(s => s.DeviceID), m => m.Connected, "is not connected");
        foreach (var info in request.SlaveDeviceInfos) _slaves[info.DeviceID] = info.Clone();
        return new SetSlaveDeviceResponse();
    }

    private List<DeviceFailure> SetMode(IList<uint> ids, ConnectionMode mode) => ForConnected(ids, managed =>
    {
        if (managed.Device.Mode == mode) return;
        managed.Device.Mode = mode;
        // The device applies new network settings by reconnecting; an async connection then fails until the mode is switched back.
        if (managed.Kind == ManagedKind.Async) SetStatus(managed, Status.Disconnected);
        else Drop(managed);
    });

    private List<DeviceFailure> SetSsl(IList<uint> ids, bool enabled) => ForConnected(ids, managed => managed.Device.SslEnabled = enabled);

    private List<DeviceFailure> ForConnected(IList<uint> ids, Action<ManagedDevice> change)
    {
        RequireDistinct(ids);
        var failures = new List<DeviceFailure>();
        foreach (uint id in ids)
        {
            if (!_managed.TryGetValue(id, out var managed)) failures.Add(new DeviceFailure(id, StatusCode.NotFound, $"Device {id} is not managed by the gateway."));
            else if (!managed.Connected) failures.Add(new DeviceFailure(id, StatusCode.FailedPrecondition, $"Device {id} is not connected."));
            else change(managed);
        }
        return failures;
    }

    private static RpcException Failure(StatusCode code, string message) => new(new Grpc.Core.Status(code, message));

    private static T Single<T>(List<DeviceFailure> failures, T response) =>
        failures.Count == 0 ? response : throw Failure(failures[0].Code, failures[0].Message);

    /// <summary>A Multi call's rich error: google.rpc.Status packing a gsdk.err.MultiErrorResponse.</summary>
    private static T Multi<T>(List<DeviceFailure> failures, int total, T response)
    {
        if (failures.Count == 0) return response;
        var multi = new Gsdk.Err.MultiErrorResponse();
        multi.DeviceErrors.AddRange(failures.Select(f => new Gsdk.Err.ErrorResponse { DeviceID = f.DeviceId, Code = (int)f.Code, Msg = f.Message }));
        string message = $"{failures.Count} of {total} device(s) failed.";
        var status = new RichStatus { Code = (int)failures[0].Code, Message = message, Details = { Any.Pack(multi) } };
        throw new RpcException(new Grpc.Core.Status(failures[0].Code, message), new Metadata { { DeviceShell.Engine.Gateway.GatewayErrors.StatusDetailsTrailer, status.ToByteArray() } });
    }
}
