// The approved verbs, with PowerShell's names, so cmdlet attributes read the same as in real code.
namespace System.Management.Automation;

public static class VerbsCommon
{
    public const string Add = "Add"; public const string Clear = "Clear"; public const string Close = "Close"; public const string Copy = "Copy";
    public const string Enter = "Enter"; public const string Exit = "Exit"; public const string Find = "Find"; public const string Format = "Format";
    public const string Get = "Get"; public const string Hide = "Hide"; public const string Join = "Join"; public const string Lock = "Lock";
    public const string Move = "Move"; public const string New = "New"; public const string Open = "Open"; public const string Optimize = "Optimize";
    public const string Pop = "Pop"; public const string Push = "Push"; public const string Redo = "Redo"; public const string Remove = "Remove";
    public const string Rename = "Rename"; public const string Reset = "Reset"; public const string Resize = "Resize"; public const string Search = "Search";
    public const string Select = "Select"; public const string Set = "Set"; public const string Show = "Show"; public const string Skip = "Skip";
    public const string Split = "Split"; public const string Step = "Step"; public const string Switch = "Switch"; public const string Undo = "Undo";
    public const string Unlock = "Unlock"; public const string Watch = "Watch";
}

public static class VerbsCommunications
{
    public const string Connect = "Connect"; public const string Disconnect = "Disconnect"; public const string Read = "Read";
    public const string Receive = "Receive"; public const string Send = "Send"; public const string Write = "Write";
}

public static class VerbsData
{
    public const string Backup = "Backup"; public const string Checkpoint = "Checkpoint"; public const string Compare = "Compare"; public const string Compress = "Compress";
    public const string Convert = "Convert"; public const string ConvertFrom = "ConvertFrom"; public const string ConvertTo = "ConvertTo"; public const string Dismount = "Dismount";
    public const string Edit = "Edit"; public const string Expand = "Expand"; public const string Export = "Export"; public const string Group = "Group";
    public const string Import = "Import"; public const string Initialize = "Initialize"; public const string Limit = "Limit"; public const string Merge = "Merge";
    public const string Mount = "Mount"; public const string Out = "Out"; public const string Publish = "Publish"; public const string Restore = "Restore";
    public const string Save = "Save"; public const string Sync = "Sync"; public const string Unpublish = "Unpublish"; public const string Update = "Update";
}

public static class VerbsDiagnostic
{
    public const string Debug = "Debug"; public const string Measure = "Measure"; public const string Ping = "Ping"; public const string Repair = "Repair";
    public const string Resolve = "Resolve"; public const string Test = "Test"; public const string Trace = "Trace";
}

public static class VerbsLifecycle
{
    public const string Approve = "Approve"; public const string Assert = "Assert"; public const string Build = "Build"; public const string Complete = "Complete";
    public const string Confirm = "Confirm"; public const string Deny = "Deny"; public const string Deploy = "Deploy"; public const string Disable = "Disable";
    public const string Enable = "Enable"; public const string Install = "Install"; public const string Invoke = "Invoke"; public const string Register = "Register";
    public const string Request = "Request"; public const string Restart = "Restart"; public const string Resume = "Resume"; public const string Start = "Start";
    public const string Stop = "Stop"; public const string Submit = "Submit"; public const string Suspend = "Suspend"; public const string Uninstall = "Uninstall";
    public const string Unregister = "Unregister"; public const string Wait = "Wait";
}

public static class VerbsSecurity
{
    public const string Block = "Block"; public const string Grant = "Grant"; public const string Protect = "Protect"; public const string Revoke = "Revoke";
    public const string Unblock = "Unblock"; public const string Unprotect = "Unprotect";
}

public static class VerbsOther
{
    public const string Use = "Use";
}
