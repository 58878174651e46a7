using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Describes Webifi error codes (convert_error_code_to_string): from the table the server sent at login when a
/// session is given or open, else DeviceShell's own descriptions; codes nobody knows get the official "check
/// the web site" text.
/// </summary>
[Cmdlet(VerbsCommon.Get, "WebifiErrorText", HelpUri = HelpLinks.CmdletPages + "Get-WebifiErrorText.md")]
[OutputType(typeof(WebifiErrorDescription))]
public sealed class GetWebifiErrorTextCommand : SessionCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int[] Code { get; set; } = Array.Empty<int>();

    protected override void ProcessRecord()
    {
        // A session is optional here: without one (and none open) the built-in descriptions answer.
        var session = Session is not null
            ? ResolveSession<WebifiSession>("Webifi", "Connect-Webifi")
            : Engine.Sessions.SessionRegistry.Shared.List(Engine.Sessions.DeviceWorld.Webifi).OfType<WebifiSession>().LastOrDefault();
        foreach (int code in Code)
        {
            string text = session?.GetErrorText(code) is string own && own != WebifiErrorCode.FallbackText
                ? own
                : WebifiErrorCode.DefaultDescriptions.TryGetValue(code, out string? known) ? known : WebifiErrorCode.FallbackText;
            WriteObject(new WebifiErrorDescription(code, text));
        }
    }
}
