using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>Asks devices for their identity (function 255). Takes UIDs from the pipeline, e.g. from Get-BrickEnumeration.</summary>
[Cmdlet(VerbsCommon.Get, "BrickIdentity")]
[OutputType(typeof(BrickDevice))]
public sealed class GetBrickIdentityCommand : BrickCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrickUidCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Uid { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var session = ResolveBrickSession();
        foreach (string uid in Uid)
        {
            if (ParseUid(uid) is not uint value) continue;
            WriteVerbose($"get_identity (fid 255) to {uid}.");
            TryRun(() => WriteObject(Await(token => session.GetIdentityAsync(value, token))), uid);
        }
    }
}
