using System.Management.Automation;

namespace DeviceShell.Commands;

/// <summary>
/// Turns a DateTimeOffset that crossed a remoting boundary back into a DateTimeOffset (DeviceShell.types.ps1xml). PowerShell
/// serializes DateTime as itself but DateTimeOffset as a string (or, at the depth the types file asks for, a property bag),
/// so ConnectedAt, At, ReceivedAt, Timestamp and StartedAt would otherwise sort and subtract as text. The bag's UtcDateTime
/// and Offset rebuild the exact value.
/// </summary>
public sealed class DeserializedDateTimeOffsetConverter : PSTypeConverter
{
    private const string DeserializedTypeName = "Deserialized.System.DateTimeOffset";

    public override bool CanConvertFrom(object sourceValue, Type destinationType) =>
        destinationType == typeof(DateTimeOffset) && sourceValue is PSObject bag && bag.TypeNames.Contains(DeserializedTypeName);

    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase)
    {
        var bag = (PSObject)sourceValue;
        if (bag.Properties["UtcDateTime"]?.Value is DateTime utc && bag.Properties["Offset"]?.Value is TimeSpan offset)
            return new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)).ToOffset(offset);
        throw new PSInvalidCastException($"The deserialized DateTimeOffset '{bag}' has no UtcDateTime and Offset.");
    }

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new PSInvalidCastException($"Cannot convert '{sourceValue}' to {destinationType}.");
}
