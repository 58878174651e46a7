using System.Diagnostics;
using System.Net.Sockets;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Bricks;

namespace DeviceShell.Engine.Tests.Bricks;

/// <summary>
/// High-level streams through the engine against the simulated devices (chunked as a device chunks them) and against
/// a hostile peer on a raw socket whose chunks do not follow one another.
/// </summary>
public sealed class StreamTests
{
    private const string Lcd = "LcD", Strip = "StR", Serial = "SeR", Thermal = "ThX", Energy = "EnM";

    private static SimulatedBrickDevice[] Devices() => new[]
    {
        SimulatedDevices.Create(MasterBrick.Identifier, "6qY", "0", '0'),
        SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf("LCD 128x64 Bricklet")!.Value, Lcd, "6qY", 'a'),
        SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf("LED Strip Bricklet 2.0")!.Value, Strip, "6qY", 'b'),
        SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf("RS232 Bricklet 2.0")!.Value, Serial, "6qY", 'c'),
        SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf("Thermal Imaging Bricklet")!.Value, Thermal, "6qY", 'd'),
        SimulatedDevices.Create(BrickDeviceCatalog.IdentifierOf("Energy Monitor Bricklet")!.Value, Energy, "6qY", 'e'),
    };

    private static Dictionary<string, object?> Args(params (string Name, object? Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value, StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void Every_stream_of_the_catalogue_has_its_high_level_function_or_callback()
    {
        var types = BrickDeviceCatalog.Types;
        Assert.Equal(47, types.Sum(t => t.Functions.Count(f => f.Stream is not null)));
        Assert.Equal(47, types.Sum(t => t.HighLevelFunctions.Count));
        Assert.Equal(13, types.Sum(t => t.HighLevelCallbacks.Count));
        var strip = BrickDeviceCatalog.Find("LED Strip Bricklet 2.0")!;
        var set = strip.Function("SetLEDValues")!;
        Assert.Equal((set.LowLevel!.Id, "Index,Value"), (set.Id, string.Join(",", set.Parameters.Select(p => p.Name))));
        Assert.Equal((BrickWireType.UInt8, typeof(byte[]), 65535), (set.Parameters[1].Type, set.Parameters[1].ClrType, set.Parameters[1].Count));
        var read = BrickDeviceCatalog.Find("RS232 Bricklet 2.0")!.Function("read")!;
        Assert.Equal(("Message", typeof(string)), (read.Returns.Single().Name, read.Returns.Single().ClrType));
        Assert.Equal("MessageWritten", BrickDeviceCatalog.Find("RS232 Bricklet 2.0")!.Function("Write")!.Returns.Single().Name);
        var image = BrickDeviceCatalog.Find("Thermal Imaging Bricklet")!.Callback("TemperatureImage")!;
        Assert.Equal(("Image", 4800, "Kelvin"), (image.Values.Single().Name, image.Values.Single().Count, image.Values.Single().Unit));
        Assert.Contains(BrickFunctionInfo.Of(strip), f => f.Name == "GetLEDValues");
    }

    [Fact]
    public async Task An_LED_strip_of_150_LEDs_is_set_and_read_back_whole_and_in_part()
    {
        await using var bed = await BrickFixture.StartAsync(devices: Devices());
        await using var session = await bed.ConnectAsync();
        uint uid = BrickUid.Parse(Strip);
        byte[] colours = Enumerable.Range(0, 450).Select(i => (byte)(i * 7 % 256)).ToArray();
        await session.InvokeAsync(uid, "SetLEDValues", Args(("Index", 0), ("Value", colours))).Within();
        var all = await session.InvokeAsync(uid, "GetLEDValues", Args(("Index", 0), ("Length", 450))).Within();
        Assert.Equal(colours, (byte[])all["Value"]!);
        var part = await session.InvokeAsync(uid, "GetLEDValues", Args(("Index", 3), ("Length", 9))).Within();
        Assert.Equal(colours[3..12], (byte[])part["Value"]!);
    }

    [Fact]
    public async Task A_full_LCD_screen_written_reads_back_and_a_window_reads_its_part()
    {
        await using var bed = await BrickFixture.StartAsync(devices: Devices());
        await using var session = await bed.ConnectAsync();
        uint uid = BrickUid.Parse(Lcd);
        bool[] screen = Enumerable.Range(0, 128 * 64).Select(i => (i / 128 + i % 128) % 3 == 0).ToArray();
        await session.InvokeAsync(uid, "WritePixels", Args(("XStart", 0), ("YStart", 0), ("XEnd", 127), ("YEnd", 63), ("Pixels", screen))).Within();
        var read = await session.InvokeAsync(uid, "ReadPixels", Args(("XStart", 0), ("YStart", 0), ("XEnd", 127), ("YEnd", 63))).Within();
        Assert.Equal(screen, (bool[])read["Pixels"]!);
        var window = await session.InvokeAsync(uid, "ReadPixels", Args(("XStart", 10), ("YStart", 20), ("XEnd", 13), ("YEnd", 21))).Within();
        Assert.Equal(new[] { 20 * 128 + 10, 20 * 128 + 11, 20 * 128 + 12, 20 * 128 + 13, 21 * 128 + 10, 21 * 128 + 11, 21 * 128 + 12, 21 * 128 + 13 }.Select(i => screen[i]),
            (bool[])window["Pixels"]!);
    }

    [Fact]
    public async Task An_RS232_Bricklet_in_loopback_reads_what_it_wrote_and_its_read_callback_arrives_whole()
    {
        await using var bed = await BrickFixture.StartAsync(devices: Devices());
        await using var session = await bed.ConnectAsync();
        uint uid = BrickUid.Parse(Serial);
        string message = new(Enumerable.Range(0, 150).Select(i => (char)('a' + i % 26)).ToArray()); // three chunks
        var unlooped = await session.InvokeAsync(uid, "Write", Args(("Message", message))).Within();
        Assert.Equal(150L, unlooped["MessageWritten"]);
        Assert.Equal("", (await session.InvokeAsync(uid, "Read", Args(("Length", 200))).Within())["Message"]);

        bed.Daemon.SetInput(Serial, "Loopback", true);
        await session.InvokeAsync(uid, "Write", Args(("Message", message))).Within();
        Assert.Equal(message[..100], (await session.InvokeAsync(uid, "Read", Args(("Length", 100))).Within())["Message"]);
        Assert.Equal(message[100..], (await session.InvokeAsync(uid, "Read", Args(("Length", 100))).Within())["Message"]);

        await session.InvokeAsync(uid, "EnableReadCallback", null).Within();
        await session.InvokeAsync(uid, "Write", Args(("Message", message))).Within();
        var whole = await BrickFixture.NextEvent(session, e => e.Name == "Read");
        Assert.Equal(message, whole.Values!["Message"]);
        Assert.Equal(3 * 64, whole.Payload.Length); // the three chunks' payloads
    }

    [Fact]
    public async Task A_thermal_image_and_a_waveform_are_whole_and_plausible()
    {
        await using var bed = await BrickFixture.StartAsync(devices: Devices());
        await using var session = await bed.ConnectAsync();
        var image = (ushort[])(await session.InvokeAsync(BrickUid.Parse(Thermal), "GetTemperatureImage").Within())["Image"]!;
        Assert.Equal(80 * 60, image.Length);
        Assert.All(image, k => Assert.InRange(k, 27315, 31315)); // 0 to 40 °C in 1/100 K
        var contrast = (byte[])(await session.InvokeAsync(BrickUid.Parse(Thermal), "GetHighContrastImage").Within())["Image"]!;
        Assert.Equal(4800, contrast.Length);
        var waveform = (short[])(await session.InvokeAsync(BrickUid.Parse(Energy), "GetWaveform").Within())["Waveform"]!;
        Assert.Equal(1536, waveform.Length);
        Assert.Contains(waveform, v => v < 0);
        Assert.Contains(waveform, v => v > 0);
    }

    /// <summary>A device answering GetWaveformLowLevel: chunk offsets from <paramref name="offsets"/>, then in order from 0.</summary>
    private static HostilePeer WaveformPeer(Func<int, int> offsetOfCall, Action<int>? counted = null) => new(async (socket, _) =>
    {
        int call = 0;
        while (true)
        {
            byte[] request = await HostilePeer.ReadRequestAsync(socket);
            if ((request[6] & 0x08) == 0) continue;
            counted?.Invoke(++call);
            var response = new byte[8 + 62];
            request.AsSpan(0, 8).CopyTo(response);
            response[4] = (byte)response.Length;
            BitConverter.TryWriteBytes(response.AsSpan(8, 2), (ushort)offsetOfCall(call));
            for (int i = 0; i < 30; i++) BitConverter.TryWriteBytes(response.AsSpan(10 + 2 * i, 2), (short)(offsetOfCall(call) + i));
            await socket.SendAsync(response, SocketFlags.None);
        }
    });

    [Fact]
    public async Task A_chunk_at_the_wrong_offset_is_StreamOutOfSync_and_the_next_read_is_whole()
    {
        var getWaveform = BrickDeviceCatalog.Find("Energy Monitor Bricklet")!.Function("GetWaveform")!;
        int calls = 0;
        // The first stream skips its third chunk; the rest of it is drained, then the next stream is read in order.
        await using var peer = WaveformPeer(call => call <= 51 ? (call < 3 ? call - 1 : call) * 30 : (call - 52) * 30, call => calls = call);
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = peer.Port, Timeout = TimeSpan.FromSeconds(10) }).Within();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(12345, getWaveform, null).Within());
        Assert.Equal(("StreamOutOfSync", DeviceErrorKind.Protocol, BrickErrors.StreamOutOfSync), (error.ErrorId, error.Kind, error.ErrorCode));
        Assert.Contains("offset 90 came where offset 60 was due", error.Message, StringComparison.Ordinal);
        Assert.Equal(51, calls); // 1536 / 30 = 52 chunks, one of them skipped: the whole stream was drained
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        var waveform = (short[])(await session.InvokeAsync(12345, getWaveform, null).Within())["Waveform"]!;
        Assert.Equal(Enumerable.Range(0, 1536).Select(i => (short)i), waveform);
    }

    [Fact]
    public async Task A_peer_that_never_gets_past_offset_zero_is_StreamOutOfSync_after_a_bounded_drain_not_a_hang()
    {
        var getWaveform = BrickDeviceCatalog.Find("Energy Monitor Bricklet")!.Function("GetWaveform")!;
        int calls = 0;
        await using var peer = WaveformPeer(_ => 0, call => calls = call);
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = peer.Port, Timeout = TimeSpan.FromSeconds(10) }).Within();
        var error = await Assert.ThrowsAsync<DeviceException>(() => session.InvokeAsync(12345, getWaveform, null).Within());
        Assert.Equal("StreamOutOfSync", error.ErrorId);
        Assert.InRange(calls, 2, 2 + 1536 / 30 + 1);
    }

    [Fact]
    public async Task A_high_level_callback_ignores_a_tail_reports_a_gap_as_null_and_delivers_a_whole_image()
    {
        const uint Camera = 4242;
        int identifier = BrickDeviceCatalog.IdentifierOf("Thermal Imaging Bricklet")!.Value;
        byte lowLevel = BrickDeviceCatalog.Find(identifier)!.Callback("TemperatureImageLowLevel")!.Id;
        static byte[] Chunk(int offset)
        {
            var payload = new byte[64];
            BitConverter.TryWriteBytes(payload.AsSpan(0, 2), (ushort)offset);
            for (int i = 0; i < 31; i++) BitConverter.TryWriteBytes(payload.AsSpan(2 + 2 * i, 2), (ushort)(offset + i));
            return payload;
        }
        await using var peer = new HostilePeer(async (socket, _) =>
        {
            byte[] request = await HostilePeer.ReadRequestAsync(socket); // get_identity of the camera
            var identity = new BrickDevice(BrickUid.Encode(Camera), "6qY", 'a', new Version(1, 0, 0), new Version(2, 0, 0), identifier, null).ToPayload(null);
            await socket.SendAsync(new TfpPacket(Camera, request[5], (byte)(request[6] >> 4), true, 0, identity).ToBytes(), SocketFlags.None);
            await HostilePeer.ReadRequestAsync(socket); // the go: the client knows the camera's type now
            var chunks = new List<int> { 31, 0, 62 }; // a tail (ignored), then a stream with a gap
            chunks.AddRange(Enumerable.Range(0, 155).Select(i => i * 31)); // then a whole image: 154 chunks of 31 and one of 26
            foreach (int offset in chunks) await socket.SendAsync(new TfpPacket(Camera, lowLevel, 0, false, 0, Chunk(offset)).ToBytes(), SocketFlags.None);
            await Task.Delay(TimeSpan.FromSeconds(30)); // holds the connection open while the client reads the chunks
        });
        await using var session = await BrickSession.ConnectAsync(new BrickConnectOptions { HostName = "127.0.0.1", Port = peer.Port, Timeout = TimeSpan.FromSeconds(10) }).Within();
        Assert.Equal(identifier, (await session.GetDeviceTypeAsync(Camera).Within()).Identifier);
        await session.SendRequestAsync(Camera, 1, Array.Empty<byte>(), false).Within();
        var gap = await BrickFixture.NextEvent(session, e => e.Name == "TemperatureImage");
        Assert.Null(gap.Values!["Image"]);
        var whole = await BrickFixture.NextEvent(session, e => e.Name == "TemperatureImage");
        Assert.Equal(Enumerable.Range(0, 4800).Select(i => (ushort)i), (ushort[])whole.Values!["Image"]!);
        Assert.Equal(155 * 64, whole.Payload.Length);
    }
}
