using System.Management.Automation;
using DeviceShell.Engine.Webifi;

namespace DeviceShell.Commands;

/// <summary>
/// Sends each string (from -Data or the pipeline) as its own Webifi message, UTF-8 encoded: to the session's
/// default networks, to -ToNetwork and/or to -ToSessionId. Sends are queued at once and the command ends when
/// the relay has acknowledged every one (rt=s / the upload answer); while the session reconnects they wait in
/// the queue and nothing is lost. A refused send (error 2 unknown recipient, ...) is a non-terminating error.
/// With -TimeoutSec the command stops waiting after that time; what is still queued is sent after the reconnect.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "WebifiData", HelpUri = HelpLinks.CmdletPages + "Send-WebifiData.md")]
[OutputType(typeof(WebifiSendReceipt))]
public sealed class SendWebifiDataCommand : SessionCmdlet
{
    private readonly List<(WebifiOutgoing Message, Task Acknowledged)> _sent = new();
    private WebifiSession? _session;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString]
    public string[] Data { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateNotNull]
    public string DataType { get; set; } = "";

    [Parameter]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(WebifiNetworkCompleter))]
    public string[] ToNetwork { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateNotNull]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(WebifiDeviceCompleter))]
    public int[] ToSessionId { get; set; } = Array.Empty<int>();

    /// <summary>How long to wait for the acknowledgements; without it, until all are acknowledged (Ctrl+C stops waiting).</summary>
    [Parameter]
    [ValidateRange(0, 86400)]
    public double? TimeoutSec { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        _session ??= ResolveSession<WebifiSession>("Webifi", "Connect-Webifi");
        foreach (string item in Data)
        {
            var message = WebifiOutgoing.Text(item, DataType, ToNetwork, ToSessionId);
            TryRun(() => _sent.Add((message, _session.SendAsync(message, StopToken))), item);
        }
    }

    protected override void EndProcessing()
    {
        if (_session is null || _sent.Count == 0) return;
        string target = ToNetwork.Length + ToSessionId.Length == 0 ? "the default networks"
            : string.Join(", ", ToNetwork.Select(n => "network " + n).Concat(ToSessionId.Select(id => "session " + id)));
        WriteVerbose($"Queued {_sent.Count} message(s) for {target}; waiting for the relay's acknowledgements.");
        var deadline = TimeoutSec is double seconds ? DateTime.UtcNow + TimeSpan.FromSeconds(seconds) : DateTime.MaxValue;
        var progress = new ProgressRecord(2, "Send-WebifiData", "Waiting for the relay to acknowledge");
        bool progressShown = false;
        int pending = 0;
        for (int i = 0; i < _sent.Count; i++)
        {
            var (message, acknowledged) = _sent[i];
            if (!acknowledged.IsCompleted)
            {
                if (!progressShown && Task.WaitAny(new[] { acknowledged }, TimeSpan.FromSeconds(1)) < 0)
                {
                    progress.PercentComplete = 100 * i / _sent.Count;
                    WriteProgress(progress);
                    progressShown = true;
                }
                var left = deadline == DateTime.MaxValue ? Timeout.InfiniteTimeSpan : deadline - DateTime.UtcNow;
                if (left != Timeout.InfiniteTimeSpan && left < TimeSpan.Zero) left = TimeSpan.Zero;
                bool done = Await(async token =>
                {
                    try
                    {
                        await acknowledged.WaitAsync(left, token).ConfigureAwait(false);
                    }
                    catch (TimeoutException)
                    {
                        return false;
                    }
                    catch (Exception ex) when (ErrorRecords.IsExpected(ex))
                    {
                        // Reported below from the task itself.
                    }
                    return true;
                });
                if (!done)
                {
                    pending = _sent.Count - i;
                    break;
                }
            }
            if (acknowledged.IsFaulted) WriteFailure(acknowledged.Exception!.InnerException!, Encoding(message));
            else if (PassThru) WriteObject(new WebifiSendReceipt(message, _session.SessionId, DateTime.Now));
        }
        if (progressShown)
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        if (pending > 0)
            WriteWarning($"{pending} message(s) are not acknowledged yet (session {_session.State}); they stay queued and are sent after the reconnect.");
    }

    private static string Encoding(WebifiOutgoing message) => System.Text.Encoding.UTF8.GetString(message.Data);
}
