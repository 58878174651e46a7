using System.Management.Automation;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Sessions;

namespace DeviceShell.Commands;

/// <summary>
/// Lists the functions and callbacks of a device type from the catalogue, with their parameters and returns: of the
/// device behind a UID (its type learned once per session) or of a type given by name or identifier (no session needed).
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrickFunction", DefaultParameterSetName = UidSet, HelpUri = HelpLinks.CmdletPages + "Get-BrickFunction.md")]
[OutputType(typeof(BrickFunctionInfo))]
public sealed class GetBrickFunctionCommand : BrickCmdlet
{
    private const string UidSet = "Uid";
    private const string DeviceTypeSet = "DeviceType";

    [Parameter(ParameterSetName = UidSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    /// <summary>A device type's name ('Temperature Bricklet 2.0') or identifier (2113).</summary>
    [Parameter(ParameterSetName = DeviceTypeSet, Mandatory = true)]
    [ArgumentCompleter(typeof(BrickDeviceTypeCompleter))]
    [ValidateNotNullOrEmpty]
    public string DeviceType { get; set; } = "";

    /// <summary>Only functions and callbacks whose name matches (wildcards).</summary>
    [Parameter(Position = 1)]
    [ArgumentCompleter(typeof(BrickFunctionNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "*";

    [Parameter]
    [ValidateSet("Function", "Callback", IgnoreCase = true)]
    public string[]? Kind { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == DeviceTypeSet)
        {
            var type = BrickDeviceCatalog.Find(DeviceType);
            if (type is null)
                WriteFailure(new DeviceException(DeviceErrorKind.NotFound, "UnknownDeviceType",
                    $"No Tinkerforge device is named or numbered '{DeviceType}'. Get-BrickDeviceType lists them.", DeviceType));
            else
                WriteEntries(type);
            return;
        }
        var session = ResolveBrickSession();
        foreach (string text in Uid)
        {
            if (ParseUid(text) is not uint uid) continue;
            TryRun(() => WriteEntries(Await(token => session.GetDeviceTypeAsync(uid, token))), text);
        }
    }

    private void WriteEntries(BrickDeviceType type)
    {
        var pattern = new WildcardPattern(Name, WildcardOptions.IgnoreCase);
        foreach (var entry in BrickFunctionInfo.Of(type))
        {
            if (pattern.IsMatch(entry.Name) && (Kind is null || Kind.Contains(entry.Kind, StringComparer.OrdinalIgnoreCase))) WriteObject(entry);
        }
    }
}
