using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Streams the data the session received (oldest first) until -Count messages, -TimeoutSec or Ctrl+C.
/// Discovery requests that the session answered on its own are not included, nor the Discovery Responses Find-WebifiDevice collected.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "WebifiData", HelpUri = HelpLinks.CmdletPages + "Receive-WebifiData.md")]
[OutputType(typeof(WebifiMessage))]
public sealed class ReceiveWebifiDataCommand : ReceiveCmdlet
{
    /// <summary>Only messages of this data type (others stay queued for later receives).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNull]
    public string? DataType { get; set; }

    protected override void EndProcessing()
    {
        var session = ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        string? type = DataType;
        Receive(session, session.Events, item => item is WebifiMessage message && (type is null || string.Equals(message.DataType, type, StringComparison.Ordinal)));
    }
}
