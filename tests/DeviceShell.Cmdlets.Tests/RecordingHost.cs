using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace DeviceShell.Cmdlets.Tests;

/// <summary>
/// A host without a console that keeps what PowerShell writes to it. -WhatIf messages ("What if: ...") go only to
/// the host, so this is how a test sees that ShouldProcess was asked, and how often. Prompts fail: a test must never wait on one.
/// </summary>
internal sealed class RecordingHost : PSHost
{
    private readonly RecordingUserInterface _ui = new();

    /// <summary>Lines written to the host, oldest first.</summary>
    public IReadOnlyList<string> Lines => _ui.Lines;

    public void Clear() => _ui.Lines.Clear();

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override string Name => "DeviceShell.Cmdlets.Tests";

    public override PSHostUserInterface UI => _ui;

    public override Version Version { get; } = new(1, 0);

    public override void EnterNestedPrompt() => throw new NotSupportedException();

    public override void ExitNestedPrompt() => throw new NotSupportedException();

    public override void NotifyBeginApplication() { }

    public override void NotifyEndApplication() { }

    public override void SetShouldExit(int exitCode) { }

    private sealed class RecordingUserInterface : PSHostUserInterface
    {
        public List<string> Lines { get; } = new();

        public override PSHostRawUserInterface? RawUI => null;

        public override void WriteLine(string value) => Lines.Add(value);

        public override void Write(string value) => Lines.Add(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Lines.Add(value);

        public override void WriteErrorLine(string value) => Lines.Add(value);

        public override void WriteDebugLine(string message) { }

        public override void WriteVerboseLine(string message) { }

        public override void WriteWarningLine(string message) { }

        public override void WriteProgress(long sourceId, ProgressRecord record) { }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
            throw new NotSupportedException("A test must not prompt.");

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
            throw new NotSupportedException("A test must not prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            throw new NotSupportedException("A test must not prompt.");

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) =>
            throw new NotSupportedException("A test must not prompt.");

        public override string ReadLine() => throw new NotSupportedException("A test must not prompt.");

        public override SecureString ReadLineAsSecureString() => throw new NotSupportedException("A test must not prompt.");
    }
}
