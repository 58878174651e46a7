using System.Reflection;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using DeviceShell.BuildTools;

namespace DeviceShell.Contract.Tests;

/// <summary>What the contract is checked on: a module assembly, its manifest, its docs and formats.</summary>
public sealed record ContractInputs(
    string ModuleAssembly,
    string PowerShellReference,
    string ManifestText,
    string DocsFolder,
    string ModulePage,
    IReadOnlyList<string> FormatFiles,
    string? EngineAssemblyName);

/// <summary>
/// The module's rules, checked over the built assembly without running it (System.Reflection.MetadataLoadContext
/// with PowerShellStandard's reference assembly). Each broken rule is one line in the result.
/// </summary>
/// <remarks>
/// Metadata rather than Get-Command: the rules must be proven on a deliberately bad sample, and PowerShell refuses to
/// build a command whose parameters clash, so it could not report those. The approved verbs do come from Get-Verb.
/// </remarks>
public static class ModuleContract
{
    private const string Sma = "System.Management.Automation";

    /// <summary>The product owner's names; each is required once its world has any cmdlet.</summary>
    private static readonly (string World, Func<string, bool> InWorld, string[] Cards)[] CardNames =
    {
        ("Bricks", n => NounOf(n).StartsWith("Brick", StringComparison.Ordinal), new[] { "Connect-Brick", "Get-BrickEnumeration" }),
        ("Gateway", n => NounOf(n).StartsWith("Gateway", StringComparison.Ordinal), new[] { "Add-GatewayAsyncConnection", "Set-GatewayAcceptFilter" }), // the card's Set-AcceptFilter is its alias
        ("Webifi", n => NounOf(n).StartsWith("Webifi", StringComparison.Ordinal), new[] { "Send-WebifiData" }),
        ("Pi link", n => NounOf(n).StartsWith("PiLink", StringComparison.Ordinal) || NounOf(n).StartsWith("PiButton", StringComparison.Ordinal), new[] { "Start-PiButtonServer" }),
    };

    /// <summary>Verbs whose cmdlets change a device, a configuration, a filter or a running server.</summary>
    private static readonly string[] ChangingVerbs = { "Set", "Add", "Remove", "Enable", "Disable", "Stop" };

    private static readonly string[] CommonParameters = { "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction",
        "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable", "WhatIf", "Confirm" };

    public static IReadOnlyList<string> Check(ContractInputs inputs)
    {
        var problems = new List<string>();
        using var context = LoadContext(inputs.ModuleAssembly, inputs.PowerShellReference);
        var module = context.LoadFromAssemblyPath(inputs.ModuleAssembly);
        var cmdlets = Cmdlets(module).ToList();
        var approved = ApprovedVerbs();

        var exported = ModuleManifest.CmdletsToExport(inputs.ManifestText).ToHashSet(StringComparer.Ordinal);
        foreach (var c in cmdlets.Where(c => !exported.Contains(c.Name)))
            problems.Add($"{c.Name}: not in the manifest's CmdletsToExport.");
        foreach (string name in exported.Where(n => cmdlets.All(c => c.Name != n)))
            problems.Add($"{name}: in CmdletsToExport but there is no such cmdlet.");

        var parameterTypes = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, type, attribute) in cmdlets)
        {
            string verb = name.Split('-')[0];
            if (!approved.Contains(verb)) problems.Add($"{name}: '{verb}' is not an approved verb.");
            if (!type.GetCustomAttributesData().Any(a => a.AttributeType.FullName == Sma + ".OutputTypeAttribute"))
                problems.Add($"{name}: has no [OutputType].");
            bool shouldProcess = NamedBool(attribute, "SupportsShouldProcess");
            if ((ChangingVerbs.Contains(verb) || name == "Disconnect-GatewayDevice") && !shouldProcess)
                problems.Add($"{name}: changes state but does not declare SupportsShouldProcess.");

            var parameters = Parameters(type).ToList();
            foreach (var (parameter, attributes) in parameters)
            {
                if (!parameterTypes.TryGetValue(parameter.Name, out var types)) parameterTypes[parameter.Name] = types = new HashSet<string>();
                types.Add($"{parameter.PropertyType.FullName} ({name})");
                if (parameter.Name == "Session" && !attributes.Any(a => NamedBool(a, "ValueFromPipeline") || NamedBool(a, "ValueFromPipelineByPropertyName")))
                    problems.Add($"{name}: -Session does not bind from the pipeline.");
            }

            CheckBinding(problems, name, parameters);
            CheckHelpPage(problems, inputs.DocsFolder, name, parameters.Select(p => p.Property.Name), shouldProcess);
        }

        foreach (var (parameter, types) in parameterTypes)
        {
            var distinct = types.Select(t => t[..t.IndexOf(" (", StringComparison.Ordinal)]).Distinct().ToList();
            if (distinct.Count > 1) problems.Add($"-{parameter}: has different types: {string.Join(", ", types.Order())}.");
        }

        string modulePage = File.Exists(inputs.ModulePage) ? File.ReadAllText(inputs.ModulePage) : "";
        foreach (string name in exported.Where(n => !modulePage.Contains($"[{n}]({n}.md)", StringComparison.Ordinal)))
            problems.Add($"{name}: not listed on the module page {Path.GetFileName(inputs.ModulePage)}.");

        var names = cmdlets.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (world, inWorld, cards) in CardNames)
        {
            if (!names.Any(inWorld)) continue;
            foreach (string card in cards.Where(c => !names.Contains(c)))
                problems.Add($"{card}: the {world} world has landed but its card name is missing.");
        }

        if (inputs.EngineAssemblyName is not null) problems.AddRange(ImportSafety(module, inputs.EngineAssemblyName));
        problems.AddRange(MissingViews(cmdlets.Select(c => c.Type), inputs.FormatFiles, inputs.EngineAssemblyName));
        return problems;
    }

    /// <summary>
    /// PowerShell loads every exported type before IModuleAssemblyInitializer.OnImport runs, so no exported
    /// type may need the engine (which only resolves after OnImport) to be loaded: no engine base types,
    /// no fields of engine value types, and no generic constraints naming engine types.
    /// </summary>
    public static IEnumerable<string> ImportSafety(Assembly module, string engineAssemblyName)
    {
        bool FromEngine(Type t) => t.Assembly.GetName().Name == engineAssemblyName;
        bool NeedsEngine(Type t) => (t.IsValueType && FromEngine(t)) || (t.IsGenericType && t.GetGenericArguments().Any(a => a.IsValueType && FromEngine(a)));
        foreach (var type in module.GetExportedTypes())
        {
            for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                if (FromEngine(baseType) || baseType.GetGenericArguments().Any(FromEngine))
                {
                    yield return $"{type.FullName}: derives from an engine type ({baseType.Name}); PowerShell cannot load it at import.";
                    break;
                }
            }
            const BindingFlags declared = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
            foreach (var field in type.GetFields(declared))
            {
                if (NeedsEngine(field.FieldType))
                    yield return $"{type.FullName}.{field.Name}: a field of the engine value type {field.FieldType.Name}; PowerShell cannot load it at import.";
            }
            var genericParameters = type.GetMethods(declared).Where(m => m.IsGenericMethodDefinition).SelectMany(m => m.GetGenericArguments())
                .Concat(type.IsGenericTypeDefinition ? type.GetGenericArguments() : Array.Empty<Type>());
            foreach (var parameter in genericParameters)
            {
                var engineConstraint = parameter.GetGenericParameterConstraints().FirstOrDefault(c => FromEngine(c) || c.GetGenericArguments().Any(FromEngine));
                if (engineConstraint is not null)
                    yield return $"{type.FullName}: the generic parameter {parameter.Name} is constrained to the engine type {engineConstraint.Name}; PowerShell cannot load it at import.";
            }
        }
    }

    private static IEnumerable<string> MissingViews(IEnumerable<Type> cmdletTypes, IReadOnlyList<string> formatFiles, string? engineAssemblyName)
    {
        var viewed = formatFiles.SelectMany(f => System.Xml.Linq.XDocument.Load(f).Descendants("TypeName").Select(e => e.Value.Trim())).ToHashSet(StringComparer.Ordinal);
        var outputs = cmdletTypes
            .SelectMany(t => t.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + ".OutputTypeAttribute"))
            .SelectMany(a => a.ConstructorArguments.SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many : new[] { arg }))
            .Select(arg => arg.Value as Type)
            .Where(t => t is not null && (t.Assembly.GetName().Name == engineAssemblyName || t.Assembly.GetName().Name == "DeviceShell"))
            .Distinct();
        foreach (var type in outputs)
        {
            bool hasView = false;
            for (var t = type; t is not null && !hasView; t = t.BaseType) hasView = viewed.Contains(t.FullName!);
            if (!hasView) yield return $"{type!.FullName}: an output type without a view in the format files.";
        }
    }

    /// <summary>Common parameters and their aliases: a cmdlet may not declare these names again.</summary>
    private static readonly string[] ReservedNames = { "Verbose", "vb", "Debug", "db", "ErrorAction", "ea", "WarningAction", "wa",
        "InformationAction", "infa", "ProgressAction", "proga", "ErrorVariable", "ev", "WarningVariable", "wv", "InformationVariable", "iv",
        "OutVariable", "ov", "OutBuffer", "ob", "PipelineVariable", "pv", "WhatIf", "wi", "Confirm", "cf", "UseTransaction", "usetx" };

    /// <summary>
    /// What PowerShell's parameter binder refuses when it first builds a cmdlet's metadata (the command then fails
    /// every time it is called): clashing names or aliases, two parameters at one position of a set. (A default set that
    /// no parameter names is allowed: it is the usual way to make "only the common parameters" the default.)
    /// </summary>
    private static void CheckBinding(List<string> problems, string name, List<(PropertyInfo Property, List<CustomAttributeData> Attributes)> parameters)
    {
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (property, _) in parameters)
        {
            var aliases = property.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + ".AliasAttribute")
                .SelectMany(a => a.ConstructorArguments.SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : new[] { (string)arg.Value! }));
            foreach (string label in aliases.Prepend(property.Name))
            {
                if (ReservedNames.Contains(label, StringComparer.OrdinalIgnoreCase))
                    problems.Add($"{name}: -{property.Name} uses the common parameter name '{label}'.");
                else if (seen.TryGetValue(label, out string? other))
                    problems.Add($"{name}: '{label}' names both -{other} and -{property.Name}.");
                else
                    seen[label] = property.Name;
            }
        }

        static string SetOf(CustomAttributeData parameter) =>
            parameter.NamedArguments.FirstOrDefault(n => n.MemberName == "ParameterSetName").TypedValue.Value as string ?? "__AllParameterSets";
        var placed = parameters.SelectMany(p => p.Attributes.Select(a => (p.Property.Name, Set: SetOf(a),
            Position: a.NamedArguments.FirstOrDefault(n => n.MemberName == "Position").TypedValue.Value as int?))).ToList();
        var sets = placed.Select(p => p.Set).Where(s => s != "__AllParameterSets").Distinct().DefaultIfEmpty("__AllParameterSets").ToList();
        foreach (string set in sets)
        {
            foreach (var clash in placed.Where(p => p.Position is not null && (p.Set == set || p.Set == "__AllParameterSets")).GroupBy(p => p.Position).Where(g => g.Count() > 1))
                problems.Add($"{name}: -{string.Join(" and -", clash.Select(c => c.Name))} share position {clash.Key} in the parameter set '{set}'.");
        }
    }

    private static void CheckHelpPage(List<string> problems, string docsFolder, string name, IEnumerable<string> parameters, bool shouldProcess)
    {
        string path = Path.Combine(docsFolder, name + ".md");
        if (!File.Exists(path))
        {
            problems.Add($"{name}: has no help page docs/cmdlets/{name}.md.");
            return;
        }
        CmdletHelp help;
        try
        {
            help = HelpMarkdown.Parse(File.ReadAllText(path));
        }
        catch (FormatException ex)
        {
            problems.Add($"{name}: the help page cannot be read: {ex.Message}");
            return;
        }
        if (help.Name != name) problems.Add($"{name}: the help page's title is '{help.Name}'.");
        if (string.IsNullOrWhiteSpace(help.Synopsis)) problems.Add($"{name}: the help page has no synopsis.");
        if (!help.Examples.Any(e => e.Code.Length > 0)) problems.Add($"{name}: the help page has no example.");
        var documented = help.Parameters.Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var expected = parameters.Concat(shouldProcess ? new[] { "WhatIf", "Confirm" } : Array.Empty<string>());
        foreach (string parameter in expected.Where(p => !documented.Contains(p)))
            problems.Add($"{name}: the help page does not document -{parameter}.");
        var actual = parameters.Concat(CommonParameters).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (string stale in documented.Where(p => !actual.Contains(p)))
            problems.Add($"{name}: the help page documents -{stale}, which the cmdlet does not have.");
    }

    private static IEnumerable<(string Name, Type Type, CustomAttributeData Attribute)> Cmdlets(Assembly module)
    {
        foreach (var type in module.GetExportedTypes().Where(t => !t.IsAbstract))
        {
            var attribute = type.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.FullName == Sma + ".CmdletAttribute");
            if (attribute is null) continue;
            yield return ($"{attribute.ConstructorArguments[0].Value}-{attribute.ConstructorArguments[1].Value}", type, attribute);
        }
    }

    private static IEnumerable<(PropertyInfo Property, List<CustomAttributeData> Attributes)> Parameters(Type cmdlet) =>
        cmdlet.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (p, p.GetCustomAttributesData().Where(a => a.AttributeType.FullName == Sma + ".ParameterAttribute").ToList()))
            .Where(p => p.Item2.Count > 0);

    private static bool NamedBool(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Any(n => n.MemberName == name && n.TypedValue.Value is true);

    /// <summary>The verbs PowerShell itself approves (Get-Verb), so the list is the real one of the version the tests host.</summary>
    private static HashSet<string> ApprovedVerbs()
    {
        using var shell = PowerShell.Create(InitialSessionState.CreateDefault2());
        return shell.AddCommand("Get-Verb").Invoke().Select(v => (string)v.Properties["Verb"].Value).ToHashSet(StringComparer.Ordinal);
    }

    private static string NounOf(string cmdlet) => cmdlet[(cmdlet.IndexOf('-', StringComparison.Ordinal) + 1)..];

    public static MetadataLoadContext LoadContext(params string[] assemblies)
    {
        var paths = Directory.GetFiles(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Concat(assemblies.SelectMany(a => Directory.GetFiles(Path.GetDirectoryName(a)!, "*.dll")))
            .Concat(assemblies)
            .GroupBy(p => Path.GetFileName(p), StringComparer.OrdinalIgnoreCase)
            .Select(g => g.Last());
        return new MetadataLoadContext(new PathAssemblyResolver(paths));
    }
}
