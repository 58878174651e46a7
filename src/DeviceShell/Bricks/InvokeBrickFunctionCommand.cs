using System.Management.Automation;
using DeviceShell.Engine.Bricks;

namespace DeviceShell.Commands;

/// <summary>
/// Sends one raw request to any device function. With -ResponseExpected it waits for the response and writes it;
/// header error codes become errors (InvalidParameter, FunctionNotSupported, UnknownErrorCode). Without it the
/// request is sent with the response-expected flag off and nothing is written, as the bindings do for plain setters.
/// Several UIDs get the same request one after another (e.g. one setter for every LED); each failure is its own error record.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BrickFunction", SupportsShouldProcess = true, HelpUri = HelpLinks.CmdletPages + "Invoke-BrickFunction.md")]
[OutputType(typeof(BrickResponse))]
public sealed class InvokeBrickFunctionCommand : BrickDeviceCmdlet
{
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateRange((byte)1, (byte)255)]
    public byte FunctionId { get; set; }

    /// <summary>The request payload (at most 64 bytes, little endian as the device expects it).</summary>
    [Parameter(Position = 2)]
    [ValidateCount(0, 64)]
    public byte[] Payload { get; set; } = Array.Empty<byte>();

    [Parameter]
    public SwitchParameter ResponseExpected { get; set; }

    /// <summary>How long to wait for the response; default: the session's timeout.</summary>
    [Parameter]
    [ValidateRange(0.001, 3600)]
    public double? TimeoutSec { get; set; }

    protected override void ProcessDevice(BrickSession session, string text, uint uid)
    {
        if (!ShouldProcess(text, $"Call function {FunctionId} with {Payload.Length} payload byte(s)")) return;
        WriteVerbose($"Request to {text}: fid {FunctionId}, {Payload.Length} byte(s), response expected: {ResponseExpected.IsPresent}.");
        TimeSpan? timeout = TimeoutSec is double seconds ? TimeSpan.FromSeconds(seconds) : null;
        TryRun(() =>
        {
            if (!ResponseExpected)
            {
                Await(token => session.SendRequestAsync(uid, FunctionId, Payload, false, timeout, token));
                return;
            }
            byte[] answer = Await(token => session.CallAsync(uid, FunctionId, Payload, null, timeout, token));
            WriteVerbose($"Response from {text}: {answer.Length} byte(s).");
            WriteObject(new BrickResponse(text, FunctionId, 0, answer));
        }, text);
    }
}
