using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Looks up the device-identifier catalogue: by identifier, by name (wildcards), or all of it.</summary>
[Cmdlet(VerbsCommon.Get, "BrickDeviceType", DefaultParameterSetName = "Name", HelpUri = HelpLinks.CmdletPages + "Get-BrickDeviceType.md")]
[OutputType(typeof(BrickDeviceType))]
public sealed class GetBrickDeviceTypeCommand : DeviceCmdlet
{
    /// <summary>Not positional: a positional argument is a name pattern (so <c>Get-BrickDeviceType *Relay*</c> reads naturally).</summary>
    [Parameter(ParameterSetName = "Identifier", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("DeviceIdentifier")]
    [ValidateRange(0, 65535)]
    [ArgumentCompleter(typeof(BrickDeviceTypeCompleter))]
    public int[] Identifier { get; set; } = Array.Empty<int>();

    [Parameter(ParameterSetName = "Name", Position = 0)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(BrickDeviceTypeCompleter))]
    public string Name { get; set; } = "*";

    protected override void ProcessRecord()
    {
        if (ParameterSetName == "Identifier")
        {
            foreach (int identifier in Identifier)
            {
                var type = BrickDeviceCatalog.Find(identifier);
                if (type is null)
                    WriteFailure(new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "UnknownDeviceIdentifier",
                        $"No Tinkerforge device has the identifier {identifier}.", identifier));
                else
                    WriteObject(type);
            }
            return;
        }
        var pattern = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        var found = BrickDeviceCatalog.Types.Where(t => pattern.IsMatch(t.Name)).ToList();
        // A name without wildcards that names nothing is an error, as Get-Command's is; a pattern may match nothing.
        if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(Name))
            WriteFailure(new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.NotFound, "UnknownDeviceType",
                $"No Tinkerforge device is named '{Name}'. Get-BrickDeviceType lists them; -Name takes wildcards.", Name));
        foreach (var type in found) WriteObject(type);
    }
}
