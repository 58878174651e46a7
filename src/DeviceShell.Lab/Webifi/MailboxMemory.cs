using System.Collections.Concurrent;

namespace DeviceShell.Lab.Webifi;

/// <summary>
/// Payload bytes the relay's mailboxes hold together (<see cref="WebifiRelayOptions.MaxMemoryBytes"/>) and those of one
/// account's sessions (<see cref="WebifiRelayOptions.MaxAccountMemoryBytes"/>): the per-session mailbox limit alone let an
/// account's 10,000 sessions hold 160 GB (docs/design/decisions.md §25.4). A message that would pass either bound is not queued
/// and its sender gets error 1. Thread-safe.
/// </summary>
internal sealed class MailboxMemory(long relayBytes, long accountBytes)
{
    private readonly ConcurrentDictionary<string, StrongBox> _accounts = new(StringComparer.Ordinal);
    private long _relay;

    /// <summary>Bytes held by all mailboxes now.</summary>
    public long Held => Interlocked.Read(ref _relay);

    /// <summary>Takes <paramref name="bytes"/> for a mailbox of <paramref name="account"/>; false (nothing taken) past a bound.</summary>
    public bool TryTake(string account, long bytes)
    {
        if (Interlocked.Add(ref _relay, bytes) > relayBytes)
        {
            Interlocked.Add(ref _relay, -bytes);
            return false;
        }
        var held = _accounts.GetOrAdd(account, _ => new StrongBox());
        if (Interlocked.Add(ref held.Value, bytes) > accountBytes)
        {
            Interlocked.Add(ref held.Value, -bytes);
            Interlocked.Add(ref _relay, -bytes);
            return false;
        }
        return true;
    }

    public void Return(string account, long bytes)
    {
        if (bytes == 0) return;
        Interlocked.Add(ref _relay, -bytes);
        if (_accounts.TryGetValue(account, out var held)) Interlocked.Add(ref held.Value, -bytes);
    }

    private sealed class StrongBox
    {
        public long Value;
    }
}
