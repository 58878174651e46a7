// Cmdlet and PSCmdlet with PowerShell's public surface. Every Write* goes to the harness's recorder and,
// as in the real engine, fails when called from a thread other than the one running the command.
using System.Collections.ObjectModel;
using System.Security;

namespace System.Management.Automation.Internal
{
    public abstract class InternalCommand
    {
        internal InternalCommand() { }
        public CommandOrigin CommandOrigin => CommandOrigin.Runspace;
    }
}

namespace System.Management.Automation
{
    using DeviceShell.Testing;

    public enum CommandOrigin { Runspace, Internal }

    public enum ShouldProcessReason { None, WhatIf }

    public interface ICommandRuntime { }

    public abstract class Cmdlet : Internal.InternalCommand
    {
        internal CmdletRecorder Recorder { get; set; } = null!;

        public ICommandRuntime CommandRuntime { get => Recorder; set => Recorder = (CmdletRecorder)value; }

        public bool Stopping => Recorder?.Stopped ?? false;

        protected virtual void BeginProcessing() { }
        protected virtual void ProcessRecord() { }
        protected virtual void EndProcessing() { }
        protected virtual void StopProcessing() { }

        internal void RunBegin() => BeginProcessing();
        internal void RunProcess() => ProcessRecord();
        internal void RunEnd() => EndProcessing();
        internal void RunStop() => StopProcessing();

        public void WriteObject(object sendToPipeline) => Recorder.Output(sendToPipeline, false);
        public void WriteObject(object sendToPipeline, bool enumerateCollection) => Recorder.Output(sendToPipeline, enumerateCollection);
        public void WriteError(ErrorRecord errorRecord) => Recorder.Add(Recorder.Errors, errorRecord);
        public void WriteVerbose(string text) => Recorder.Add(Recorder.Verbose, text);
        public void WriteWarning(string text) => Recorder.Add(Recorder.Warnings, text);
        public void WriteDebug(string text) => Recorder.Add(Recorder.Debug, text);
        public void WriteProgress(ProgressRecord progressRecord) => Recorder.Add(Recorder.Progress, progressRecord);
        public void WriteInformation(object messageData, string[] tags) => Recorder.Add(Recorder.Information, messageData);
        public void WriteCommandDetail(string text) => Recorder.Add(Recorder.Verbose, text);

        public bool ShouldProcess(string target) => Recorder.ShouldProcess(target, GetType().Name);
        public bool ShouldProcess(string target, string action) => Recorder.ShouldProcess(target, action);
        public bool ShouldProcess(string verboseDescription, string verboseWarning, string caption) => Recorder.ShouldProcess(verboseDescription, caption);

        public bool ShouldProcess(string verboseDescription, string verboseWarning, string caption, out ShouldProcessReason shouldProcessReason)
        {
            shouldProcessReason = Recorder.WhatIf ? ShouldProcessReason.WhatIf : ShouldProcessReason.None;
            return Recorder.ShouldProcess(verboseDescription, caption);
        }

        public bool ShouldContinue(string query, string caption) => Recorder.ConfirmAnswer;

        public void ThrowTerminatingError(ErrorRecord errorRecord)
        {
            Recorder.CheckThread();
            throw new TerminatingErrorException(errorRecord);
        }
    }

    public abstract class PSCmdlet : Cmdlet
    {
        public string ParameterSetName => Recorder.ParameterSetName;

        public PSEventManager Events => Recorder.Events;

        public string GetUnresolvedProviderPathFromPSPath(string path) => Path.GetFullPath(path, Recorder.CurrentLocation);
    }

    public enum ErrorCategory
    {
        NotSpecified, OpenError, CloseError, DeviceError, DeadlockDetected, InvalidArgument, InvalidData, InvalidOperation,
        InvalidResult, InvalidType, MetadataError, NotImplemented, NotInstalled, ObjectNotFound, OperationStopped,
        OperationTimeout, SyntaxError, ParserError, PermissionDenied, ResourceBusy, ResourceExists, ResourceUnavailable,
        ReadError, WriteError, FromStdErr, SecurityError, ProtocolError, ConnectionError, AuthenticationError,
        LimitsExceeded, QuotaExceeded, NotEnabled,
    }

    public class ErrorRecord
    {
        public ErrorRecord(Exception exception, string errorId, ErrorCategory errorCategory, object? targetObject)
        {
            Exception = exception;
            FullyQualifiedErrorId = errorId;
            TargetObject = targetObject;
            CategoryInfo = new ErrorCategoryInfo(errorCategory, targetObject);
        }

        public Exception Exception { get; }
        public string FullyQualifiedErrorId { get; }
        public object? TargetObject { get; }
        public ErrorCategoryInfo CategoryInfo { get; }
        public ErrorDetails? ErrorDetails { get; set; }
        public override string ToString() => ErrorDetails?.Message ?? Exception.Message;
    }

    public class ErrorCategoryInfo
    {
        internal ErrorCategoryInfo(ErrorCategory category, object? target)
        {
            Category = category;
            TargetName = target?.ToString() ?? "";
            TargetType = target?.GetType().Name ?? "";
        }

        public ErrorCategory Category { get; }
        public string Activity { get; set; } = "";
        public string Reason { get; set; } = "";
        public string TargetName { get; set; }
        public string TargetType { get; set; }
    }

    public class ErrorDetails
    {
        public ErrorDetails(string message) => Message = message;
        public string Message { get; }
        public string? RecommendedAction { get; set; }
    }

    public enum ProgressRecordType { Processing, Completed }

    public class ProgressRecord
    {
        public ProgressRecord(int activityId, string activity, string statusDescription)
        {
            ActivityId = activityId;
            Activity = activity;
            StatusDescription = statusDescription;
        }

        public int ActivityId { get; }
        public string Activity { get; set; }
        public string StatusDescription { get; set; }
        public string? CurrentOperation { get; set; }
        public int ParentActivityId { get; set; } = -1;
        public int PercentComplete { get; set; } = -1;
        public int SecondsRemaining { get; set; } = -1;
        public ProgressRecordType RecordType { get; set; }
    }

    public struct SwitchParameter
    {
        private readonly bool _isPresent;
        public SwitchParameter(bool isPresent) => _isPresent = isPresent;
        public bool IsPresent => _isPresent;
        public static SwitchParameter Present => new(true);
        public bool ToBool() => _isPresent;
        public static implicit operator bool(SwitchParameter switchParameter) => switchParameter._isPresent;
        public static implicit operator SwitchParameter(bool value) => new(value);
        public static bool operator ==(SwitchParameter first, SwitchParameter second) => first._isPresent == second._isPresent;
        public static bool operator !=(SwitchParameter first, SwitchParameter second) => !(first == second);
        public static bool operator ==(SwitchParameter first, bool second) => first._isPresent == second;
        public static bool operator !=(SwitchParameter first, bool second) => !(first == second);
        public static bool operator ==(bool first, SwitchParameter second) => first == second._isPresent;
        public static bool operator !=(bool first, SwitchParameter second) => !(first == second);
        public override bool Equals(object? obj) => obj is SwitchParameter other && other._isPresent == _isPresent || obj is bool b && b == _isPresent;
        public override int GetHashCode() => _isPresent.GetHashCode();
        public override string ToString() => _isPresent.ToString();
    }

    public sealed class PSCredential
    {
        public PSCredential(string userName, SecureString password)
        {
            UserName = userName;
            Password = password;
        }

        public string UserName { get; }
        public SecureString Password { get; }
        public static PSCredential Empty { get; } = new("", new SecureString());
        public System.Net.NetworkCredential GetNetworkCredential() => new(UserName, Password);
    }

    public class PSObject
    {
        public PSObject() => BaseObject = this;
        public PSObject(object obj) => BaseObject = obj;
        public object BaseObject { get; }
        public static PSObject AsPSObject(object obj) => obj as PSObject ?? new PSObject(obj);
        public override string? ToString() => ReferenceEquals(BaseObject, this) ? base.ToString() : BaseObject.ToString();
    }

    public class PSEventArgs : EventArgs
    {
        internal PSEventArgs(int eventIdentifier, string sourceIdentifier, object? sender, object[]? sourceArgs, PSObject? messageData)
        {
            EventIdentifier = eventIdentifier;
            SourceIdentifier = sourceIdentifier;
            Sender = sender;
            SourceArgs = sourceArgs ?? Array.Empty<object>();
            MessageData = messageData;
            TimeGenerated = DateTime.Now;
        }

        public int EventIdentifier { get; }
        public string SourceIdentifier { get; }
        public object? Sender { get; }
        public object[] SourceArgs { get; }
        public PSObject? MessageData { get; }
        public DateTime TimeGenerated { get; }
        public string? ComputerName { get; }
        public Guid RunspaceId { get; }
    }

    /// <summary>The engine event queue: GenerateEvent records what New-Event would queue.</summary>
    public class PSEventManager
    {
        private int _nextId;
        internal PSEventManager() { }
        public List<PSEventArgs> ReceivedEvents { get; } = new();

        public PSEventArgs GenerateEvent(string sourceIdentifier, object sender, object[] args, PSObject extraData)
        {
            var e = new PSEventArgs(Interlocked.Increment(ref _nextId), sourceIdentifier, sender, args, extraData);
            lock (ReceivedEvents) { ReceivedEvents.Add(e); }
            return e;
        }
    }

    public interface IModuleAssemblyInitializer
    {
        void OnImport();
    }

    public interface IModuleAssemblyCleanup
    {
        void OnRemove(PSModuleInfo psModuleInfo);
    }

    public sealed class PSModuleInfo
    {
        public PSModuleInfo(string name) => Name = name;
        public string Name { get; }
    }

    public class RuntimeException : SystemException
    {
        public RuntimeException() { }
        public RuntimeException(string message) : base(message) { }
        public RuntimeException(string message, Exception innerException) : base(message, innerException) { }
    }

    public class PipelineStoppedException : RuntimeException
    {
        public PipelineStoppedException() : base("The pipeline has been stopped.") { }
    }

    public class MetadataException : RuntimeException
    {
        public MetadataException(string message) : base(message) { }
    }

    public class ValidationMetadataException : MetadataException
    {
        public ValidationMetadataException(string message) : base(message) { }
    }

    public class ArgumentTransformationMetadataException : MetadataException
    {
        public ArgumentTransformationMetadataException(string message) : base(message) { }
    }

    public class ParameterBindingException : RuntimeException
    {
        public ParameterBindingException(string message) : base(message) { }
        public ParameterBindingException(string message, Exception innerException) : base(message, innerException) { }
    }

    public class PSInvalidOperationException : InvalidOperationException
    {
        public PSInvalidOperationException(string message) : base(message) { }
    }

    /// <summary>What ThrowTerminatingError throws here; the harness records its ErrorRecord.</summary>
    public sealed class TerminatingErrorException : RuntimeException
    {
        public TerminatingErrorException(ErrorRecord errorRecord) : base(errorRecord.ToString(), errorRecord.Exception) => ErrorRecord = errorRecord;
        public ErrorRecord ErrorRecord { get; }
    }
}
