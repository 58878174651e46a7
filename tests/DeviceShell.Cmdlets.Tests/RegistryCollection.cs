namespace DeviceShell.Cmdlets.Tests;

/// <summary>
/// Tests that rely on which session is a world's default (the process-wide registry) run in this
/// collection, one at a time and never beside other test classes, so no other test's session becomes the default under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryCollection
{
    public const string Name = "Session registry";
}
