using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Engine.Tests.Bricks;

public class BrickUidTests
{
    [Theory]
    [InlineData("2", 1u)]
    [InlineData("4ER", 12345u)]
    [InlineData("b1Q", 33688u)]
    [InlineData("6wVE7W", 3631747890u)]
    [InlineData("7xwQ9g", uint.MaxValue)]
    public void Known_values_round_trip(string text, uint value)
    {
        Assert.Equal(value, BrickUid.Parse(text));
        Assert.Equal(text, BrickUid.Encode(value));
    }

    [Fact]
    public void Values_above_32_bits_are_folded_like_the_bindings()
    {
        ulong value = 0x1234_5678_9ABC_DEF0;
        string text = EncodeWide(value);
        uint expected = (0x9ABCDEF0u & 0xFFF) | ((0x9ABCDEF0u & 0x0F000000) >> 12) | ((0x12345678u & 0x3F) << 16) | ((0x12345678u & 0x000F0000) << 6) | ((0x12345678u & 0x3F000000) << 2);
        Assert.Equal(expected, BrickUid.Parse(text));
    }

    [Theory]
    [InlineData("0", "not a base58 character")]
    [InlineData("4EO", "not a base58 character")]
    [InlineData("abcé", "not a base58 character")]
    [InlineData("", "empty")]
    [InlineData("1", "maps to zero")]
    [InlineData("111", "maps to zero")]
    [InlineData("zzzzzzzzzzzzzz", "64 bits")]
    public void Bad_uids_are_clear_invalid_argument_errors(string text, string why)
    {
        var error = Assert.Throws<DeviceException>(() => BrickUid.Parse(text));
        Assert.Equal("InvalidUid", error.ErrorId);
        Assert.Equal(DeviceErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
        Assert.False(BrickUid.TryParse(text, out _));
    }

    [Fact]
    public void Identity_payload_matches_the_spec_bytes()
    {
        var device = new BrickDevice("4ER", "6qY", 'a', new Version(1, 1, 0), new Version(2, 0, 4), 216, null);
        byte[] expected = Convert.FromHexString("34455200000000003671590000000000610101000200" + "04d800");
        Assert.Equal(expected, device.ToPayload(null));
        var back = BrickDevice.FromPayload(device.ToPayload(BrickEnumerationType.Available));
        Assert.Equal(("4ER", "6qY", 'a', 216, BrickEnumerationType.Available), (back.Uid, back.ConnectedUid, back.Position, back.DeviceIdentifier, back.EnumerationType!.Value));
        Assert.Equal("Temperature Bricklet", back.DeviceName);
    }

    [Fact]
    public void Packets_encode_header_fields_as_the_spec_examples()
    {
        var request = new TfpPacket(12345, TfpFunction.GetIdentity, 3, true, 0, Array.Empty<byte>());
        Assert.Equal(Convert.FromHexString("39300000" + "08ff3800"), request.ToBytes());
        var error = TfpPacket.Read(Convert.FromHexString("39300000084d6880"));
        Assert.Equal((77, 6, true, 2), (error.FunctionId, error.Sequence, error.ResponseExpected, error.ErrorCode));
    }

    [Fact]
    public void Digest_matches_the_documented_test_vector()
    {
        byte[] digest = BrickSession.ComputeDigest("My Authentication Secret!", Convert.FromHexString("50c029d1"), Convert.FromHexString("dc42574d"));
        Assert.Equal("613d62ec246eebe308f79560560da7ee29064001", Convert.ToHexString(digest).ToLowerInvariant());
    }

    [Fact]
    public void Catalogue_maps_both_ways()
    {
        Assert.Equal("Master Brick", BrickDeviceCatalog.DisplayName(13));
        Assert.Equal(2113, BrickDeviceCatalog.IdentifierOf("temperature bricklet 2.0"));
        Assert.Equal("Unknown Device [9999]", BrickDeviceCatalog.DisplayName(9999));
        Assert.True(BrickDeviceCatalog.Types.Count > 140);
        Assert.Equal(BrickDeviceCatalog.Types.Count, BrickDeviceCatalog.Types.Select(t => t.Identifier).Distinct().Count());
    }

    private static string EncodeWide(ulong value)
    {
        var digits = new List<char>();
        while (value > 0)
        {
            digits.Insert(0, BrickUid.Alphabet[(int)(value % 58)]);
            value /= 58;
        }
        return new string(digits.ToArray());
    }
}
