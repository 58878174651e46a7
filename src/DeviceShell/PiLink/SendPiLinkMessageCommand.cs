using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>
/// Sends messages (given or piped, one per string) over a Pi link: from a client (Connect-PiLink) to its server, or from a server started here to its
/// client. With -TimeoutSec it returns the peer's next message as the reply (that message is then not queued for
/// Receive-PiLinkMessage); tcpcom's own reply wait never returned the reply.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "PiLinkMessage", HelpUri = HelpLinks.CmdletPages + "Send-PiLinkMessage.md")]
[OutputType(typeof(PiLinkMessage))]
public sealed class SendPiLinkMessageCommand : SessionCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Message { get; set; } = Array.Empty<string>();

    /// <summary>Wait up to this long for the peer's reply and return it; WaitReplySec is its old name.</summary>
    [Parameter]
    [Alias("WaitReplySec")]
    [ValidateRange(0.001, 3600)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessRecord()
    {
        var link = ResolveSession<PiLinkEndpoint>("Pi link", "Connect-PiLink");
        foreach (string text in Message)
        {
            TryRun(() =>
            {
                if (TimeoutSec is double seconds)
                {
                    var reply = Await(token => link.SendAndReceiveReplyAsync(text, TimeSpan.FromSeconds(seconds), token));
                    WriteVerbose($"Sent '{text}', reply '{reply.Text}'.");
                    WriteObject(reply);
                }
                else
                {
                    Await(token => link.SendAsync(text, token));
                    WriteVerbose($"Sent '{text}' ({link.Endpoint}).");
                }
            }, text);
        }
    }
}
