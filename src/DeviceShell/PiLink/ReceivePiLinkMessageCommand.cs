using System.Management.Automation;
using DeviceShell.Engine.PiLink;

namespace DeviceShell.Commands;

/// <summary>
/// Streams received messages and state changes (CONNECTED, DISCONNECTED, LISTENING, ...) of a client session or of a
/// server started here (<c>$server | Receive-PiLinkMessage</c>). A message over the size limit becomes the
/// non-terminating error PiLinkMessageTooLarge (ProtocolError) and the link goes on.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "PiLinkMessage", HelpUri = HelpLinks.CmdletPages + "Receive-PiLinkMessage.md")]
[OutputType(typeof(PiLinkMessage))]
public sealed class ReceivePiLinkMessageCommand : ReceiveCmdlet
{
    /// <summary>Only messages (State MESSAGE), no state changes.</summary>
    [Parameter]
    public SwitchParameter MessageOnly { get; set; }

    protected override void ProcessRecord()
    {
        // Servers are sessions too: `$server | Receive-PiLinkMessage` or -Session $server reads a server's side.
        var link = ResolveSession<PiLinkEndpoint>("Pi link", "Connect-PiLink");
        Receive(link, link.Messages, item => !MessageOnly || item.State is PiLinkState.Message or PiLinkState.MessageTooLarge, item =>
        {
            if (item.State != PiLinkState.MessageTooLarge)
            {
                WriteObject(item);
                return true;
            }
            WriteFailure(new Engine.Sessions.DeviceException(Engine.Sessions.DeviceErrorKind.Protocol, "PiLinkMessageTooLarge",
                $"{item.Peer} sent a message over the size limit: {item.Text}. It was dropped; the link goes on.", link));
            return false;
        });
    }
}
