using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeviceShell.Lab.Hosting;

/// <summary>
/// Kestrel's ports (the Webifi relay, the gateway) under the Lab's <see cref="DescriptorBudget"/>, like the Lab's own
/// socket servers (docs/design/decisions.md §25.5): the accept loop closes a connection beyond the budget before it accepts the
/// next one, so a connection flood under a low <c>ulimit -n</c> cannot take the descriptors the runtime needs. Closing
/// later (in a connection middleware, or with Kestrel's MaxConcurrentConnections) is not enough: the accept loop outruns
/// the closes and the process dies with "Out of memory.".
/// </summary>
public static class KestrelDescriptorBudget
{
    /// <summary>Replaces Kestrel's socket transport with the same transport behind the budget.</summary>
    public static IServiceCollection AddDescriptorBudget(this IServiceCollection services) =>
        services.AddSingleton<IConnectionListenerFactory>(provider => new BudgetedListenerFactory(
            new SocketTransportFactory(provider.GetRequiredService<IOptions<SocketTransportOptions>>(), provider.GetRequiredService<ILoggerFactory>())));

    private sealed class BudgetedListenerFactory(IConnectionListenerFactory sockets) : IConnectionListenerFactory
    {
        public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
            new BudgetedListener(await sockets.BindAsync(endpoint, cancellationToken).ConfigureAwait(false));
    }

    private sealed class BudgetedListener(IConnectionListener sockets) : IConnectionListener
    {
        public EndPoint EndPoint => sockets.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            while (true)
            {
                var connection = await sockets.AcceptAsync(cancellationToken).ConfigureAwait(false);
                if (connection is null) return null;
                if (DescriptorBudget.TryTake()) return new BudgetedConnection(connection);
                connection.Abort();
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default) => sockets.UnbindAsync(cancellationToken);

        public ValueTask DisposeAsync() => sockets.DisposeAsync();
    }

    /// <summary>A connection that gives its slot back once Kestrel has disposed of it.</summary>
    private sealed class BudgetedConnection(ConnectionContext inner) : ConnectionContext
    {
        private int _returned;

        public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }

        public override IFeatureCollection Features => inner.Features;

        public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }

        public override System.IO.Pipelines.IDuplexPipe Transport { get => inner.Transport; set => inner.Transport = value; }

        public override EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }

        public override EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }

        public override CancellationToken ConnectionClosed { get => inner.ConnectionClosed; set => inner.ConnectionClosed = value; }

        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public override async ValueTask DisposeAsync()
        {
            try
            {
                await inner.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                if (Interlocked.Exchange(ref _returned, 1) == 0) DescriptorBudget.Return();
                await base.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
