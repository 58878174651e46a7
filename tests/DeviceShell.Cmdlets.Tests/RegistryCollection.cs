namespace DeviceShell.Cmdlets.Tests;

/// <summary>
/// Tests that rely on process-wide state of the module (which session is a world's default, which labs are running)
/// or that change it run in this collection, one at a time and never beside other test classes, so no other test's
/// session or lab becomes the default under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RegistryCollection
{
    public const string Name = "Session registry";
}
