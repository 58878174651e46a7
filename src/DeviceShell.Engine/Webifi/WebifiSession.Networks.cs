namespace DeviceShell.Engine.Webifi;

/// <summary>The listen-to networks: set on the running link and kept for later logins.</summary>
public sealed partial class WebifiSession
{
    /// <summary>Replaces the listen-to networks (kept for later logins too). Error 5 means some are not the account's.</summary>
    public async Task SetNetworksAsync(IReadOnlyList<string> networks, CancellationToken cancellationToken = default)
    {
        var names = networks.Where(n => n.Length > 0).ToArray();
        lock (_gate) { _networks = names; }
        var link = _link;
        if (link is null || link.IsBroken) return; // applied at the next login
        int code = await link.SetNetworksAsync(names, cancellationToken).ConfigureAwait(false);
        RecordNetworks(names, code);
        if (code == WebifiErrorCode.NotAllNetworksSet) throw ErrorFor(code, await KeepKnownNetworksAsync(link, cancellationToken).ConfigureAwait(false), names);
        if (code != WebifiErrorCode.NetworksSet) throw ErrorFor(code, "networks", names);
    }

    /// <summary>
    /// After error 5 for a set of networks: the relay answers for the set as a whole, so to name the networks it
    /// refused (and not claim to listen to them) each is tried on its own, then the known ones are set together and
    /// kept for later logins. Costs a request per network, on this error path only. Returns the error's context.
    /// </summary>
    private async Task<string> KeepKnownNetworksAsync(WebifiLink link, CancellationToken cancellationToken)
    {
        var known = new List<string>();
        var refused = new List<string>();
        foreach (string name in Networks)
        {
            int code = await link.SetNetworksAsync(new[] { name }, cancellationToken).ConfigureAwait(false);
            (code == WebifiErrorCode.NetworksSet ? known : refused).Add(name);
        }
        if (known.Count > 0) await link.SetNetworksAsync(known, cancellationToken).ConfigureAwait(false);
        lock (_gate) { _networks = known.ToArray(); }
        return "unknown networks: " + string.Join(", ", refused);
    }
}
