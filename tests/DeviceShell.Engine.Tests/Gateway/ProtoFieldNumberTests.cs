using Gsdk.Connect;

namespace DeviceShell.Engine.Tests.Gateway;

/// <summary>Hand-built wire bytes prove the field numbers and enum values of our .proto (docs/design/gateway-connect.md §2-§4).</summary>
public sealed class ProtoFieldNumberTests
{
    [Fact]
    public void DeviceInfo_type_is_field_8_and_status_values_start_at_0x100()
    {
        // deviceID(1)=7, connectionMode(2)=1, IPAddr(3)="a", port(4)=51211, status(5)=0x100, autoReconnect(6), useSSL(7), type(8)=13
        byte[] wire = { 0x08, 0x07, 0x10, 0x01, 0x1A, 0x01, (byte)'a', 0x20, 0x8B, 0x90, 0x03, 0x28, 0x80, 0x02, 0x30, 0x01, 0x38, 0x01, 0x40, 0x0D };
        var info = DeviceInfo.Parser.ParseFrom(wire);
        Assert.Equal(7u, info.DeviceID);
        Assert.Equal(ConnectionMode.DeviceToServer, info.ConnectionMode);
        Assert.Equal("a", info.IPAddr);
        Assert.Equal(51211, info.Port);
        Assert.Equal(Status.TcpCannotConnect, info.Status);
        Assert.True(info.AutoReconnect);
        Assert.True(info.UseSSL);
        Assert.Equal(Gsdk.Device.Type.BioentryW2, info.Type);
    }

    [Fact]
    public void PendingDeviceInfo_type_is_field_4()
    {
        byte[] wire = { 0x08, 0x02, 0x12, 0x01, (byte)'b', 0x18, 0x05, 0x20, 0x12 };
        var pending = PendingDeviceInfo.Parser.ParseFrom(wire);
        Assert.Equal((2u, "b", 5u, Gsdk.Device.Type.BioliteN2), (pending.DeviceID, pending.IPAddr, pending.LastTry, pending.Type));
    }

    [Fact]
    public void SearchDeviceInfo_StatusChange_and_MultiError_numbers()
    {
        var search = SearchDeviceInfo.Parser.ParseFrom(new byte[] { 0x08, 0x01, 0x10, 0x0C, 0x18, 0x01, 0x20, 0x01, 0x2A, 0x01, (byte)'c', 0x30, 0x02, 0x38, 0x01, 0x42, 0x01, (byte)'d' });
        Assert.Equal((1u, Gsdk.Device.Type.BiostationL2, true, ConnectionMode.DeviceToServer, "c", 2, true, "d"),
            (search.DeviceID, search.Type, search.UseDHCP, search.ConnectionMode, search.IPAddr, search.Port, search.UseSSL, search.ServerAddr));

        var change = StatusChange.Parser.ParseFrom(new byte[] { 0x08, 0x09, 0x10, 0x81, 0x04, 0x18, 0x64 });
        Assert.Equal((9u, Status.TlsNotAllowed, 100u), (change.DeviceID, change.Status, change.Timestamp));

        // MultiErrorResponse { deviceErrors(1) { deviceID(1)=3, code(2)=5, msg(3)="x" } }
        var multi = Gsdk.Err.MultiErrorResponse.Parser.ParseFrom(new byte[] { 0x0A, 0x07, 0x08, 0x03, 0x10, 0x05, 0x1A, 0x01, (byte)'x' });
        Assert.Equal((3u, 5, "x"), (multi.DeviceErrors[0].DeviceID, multi.DeviceErrors[0].Code, multi.DeviceErrors[0].Msg));
        Assert.Equal("gsdk.err.MultiErrorResponse", Gsdk.Err.MultiErrorResponse.Descriptor.FullName);
        Assert.Equal(19, ConnectReflection.Descriptor.Services.Single(s => s.FullName == "gsdk.connect.Connect").Methods.Count);
        Assert.True(ConnectReflection.Descriptor.FindTypeByName<Google.Protobuf.Reflection.ServiceDescriptor>("Connect").FindMethodByName("SubscribeStatus").IsServerStreaming);
    }
}
