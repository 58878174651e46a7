using System.Collections;
using System.Management.Automation;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Bricks;
using DeviceShell.Engine.Lab;

namespace DeviceShell.Commands;

/// <summary>
/// Sets a reading or input of a simulated device (a temperature, a button state, a digital input) in the lab's Brick
/// Daemon simulator, by the name its getters and callbacks use; its callbacks react as the real device's would, so a
/// script's reaction can be tested.
/// </summary>
[Cmdlet(VerbsCommon.Set, "LabBrickInput", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Set-LabBrickInput.md")]
[OutputType(typeof(void))]
public sealed class SetLabBrickInputCommand : DeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    /// <summary>The reading or input, as the device's getters return it or its callbacks carry it (Temperature, ButtonState, Value).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(BrickInputNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>In the device's raw unit (1/100 °C for a temperature); a constant's name ('Pressed'); an array for array inputs.</summary>
    [Parameter(Mandatory = true, Position = 2)]
    [AllowEmptyString]
    public object Value { get; set; } = "";

    [Parameter]
    public DeviceLab? Lab { get; set; }

    protected override void ProcessRecord()
    {
        var lab = LabBrickControl.Resolve(this, Lab);
        if (lab is null) return;
        var value = JsonValueOf(Value);
        foreach (string uid in Uid)
        {
            if (!TryRun(() => BrickUid.Parse(uid), uid) || !ShouldProcess(uid, $"Set {Name} to {value?.ToJsonString()} in {lab}")) continue;
            TryRun(() =>
            {
                Await(token => lab.Brick.SetInputAsync(uid, Name, value, token));
                WriteVerbose($"Set {Name} of {uid}.");
            }, uid);
        }
    }

    /// <summary>The value as the Lab's control command takes it: a number, a boolean, text or an array of them.</summary>
    private static JsonNode? JsonValueOf(object? value) => (value is PSObject wrapped ? wrapped.BaseObject : value) switch
    {
        null => null,
        bool flag => JsonValue.Create(flag),
        string text => JsonValue.Create(text),
        char character => JsonValue.Create(character.ToString()),
        IEnumerable items => new JsonArray(items.Cast<object?>().Select(JsonValueOf).ToArray()),
        IConvertible number => JsonValue.Create(number.ToDouble(System.Globalization.CultureInfo.InvariantCulture)),
        var other => JsonValue.Create(other.ToString()),
    };
}
