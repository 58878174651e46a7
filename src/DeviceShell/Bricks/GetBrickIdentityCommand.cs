using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Asks devices for their identity (function 255). Takes UIDs from the pipeline, e.g. from Get-BrickEnumeration.</summary>
[Cmdlet(VerbsCommon.Get, "BrickIdentity", HelpUri = HelpLinks.CmdletPages + "Get-BrickIdentity.md")]
[OutputType(typeof(BrickDevice))]
public sealed class GetBrickIdentityCommand : BrickDeviceCmdlet
{
    protected override void ProcessDevice(BrickSession session, string text, uint uid)
    {
        WriteVerbose($"get_identity (fid 255) to {text}.");
        TryRun(() => WriteObject(Await(token => session.GetIdentityAsync(uid, token))), text);
    }
}
