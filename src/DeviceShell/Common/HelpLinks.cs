namespace DeviceShell.Commands;

/// <summary>
/// Where Get-Help -Online sends users: each cmdlet's page in the repository's docs/cmdlets, the same
/// markdown the shipped MAML help is built from.
/// </summary>
internal static class HelpLinks
{
    public const string CmdletPages = "https://github.com/deviceshell/DeviceShell/blob/main/docs/cmdlets/";
}
