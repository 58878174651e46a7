using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Gsdk.Connect;

namespace DeviceShell.Lab.Gateway;

public sealed partial class GatewaySimulator
{
    /// <summary>
    /// The gsdk.connect.Connect service on the stub Grpc.Tools generates from our .proto files (GrpcServices="Server"):
    /// each RPC is one call into the simulator, which keeps all state under its lock. Bound through
    /// <see cref="BindStrict"/>, so a request that does not parse is answered INVALID_ARGUMENT, as gRPC servers answer
    /// a malformed request, instead of Grpc.AspNetCore's UNKNOWN "Exception was thrown by handler".
    /// </summary>
    [BindServiceMethod(typeof(ConnectService), nameof(BindStrict))]
    private sealed class ConnectService(GatewaySimulator gateway) : Connect.ConnectBase
    {
        public static void BindStrict(ServiceBinderBase binder, Gsdk.Connect.Connect.ConnectBase? service) => Gsdk.Connect.Connect.BindService(new StrictRequestBinder(binder), service);

        public override Task<ConnectResponse> Connect(ConnectRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.ConnectDevice(request.ConnectInfo ?? new ConnectInfo()));

        public override Task<AddAsyncConnectionResponse> AddAsyncConnection(AddAsyncConnectionRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.AddAsync(request));

        public override Task<DeleteAsyncConnectionResponse> DeleteAsyncConnection(DeleteAsyncConnectionRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.DeleteAsync(request));

        public override Task<SetAcceptFilterResponse> SetAcceptFilter(SetAcceptFilterRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.SetFilter(request));

        public override Task<GetAcceptFilterResponse> GetAcceptFilter(GetAcceptFilterRequest request, ServerCallContext context) =>
            gateway.Run(() => new GetAcceptFilterResponse { Filter = gateway._filter.Clone() });

        public override Task<GetPendingListResponse> GetPendingList(GetPendingListRequest request, ServerCallContext context) =>
            gateway.Run(() => new GetPendingListResponse { DeviceInfos = { gateway._pending.Values.Select(p => p.Clone()) } });

        public override Task<GetDeviceListResponse> GetDeviceList(GetDeviceListRequest request, ServerCallContext context) =>
            gateway.Run(() => new GetDeviceListResponse { DeviceInfos = { gateway._managed.Values.Select(m => m.ToInfo()) } });

        public override Task<DisconnectResponse> Disconnect(DisconnectRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.Disconnect(request.DeviceIDs));

        public override Task<DisconnectAllResponse> DisconnectAll(DisconnectAllRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.Disconnect(gateway._managed.Keys.ToArray(), new DisconnectAllResponse()));

        public override Task<SearchDeviceResponse> SearchDevice(SearchDeviceRequest request, ServerCallContext context) =>
            gateway.SearchAsync(request, context);

        public override Task<GetSlaveDeviceResponse> GetSlaveDevice(GetSlaveDeviceRequest request, ServerCallContext context) =>
            gateway.Run(() => new GetSlaveDeviceResponse { SlaveDeviceInfos = { gateway._slaves.Values.Select(s => s.Clone()) } });

        public override Task<SetSlaveDeviceResponse> SetSlaveDevice(SetSlaveDeviceRequest request, ServerCallContext context) =>
            gateway.Run(() => gateway.SetSlaves(request));

        public override Task<SetConnectionModeResponse> SetConnectionMode(SetConnectionModeRequest request, ServerCallContext context) =>
            gateway.Run(() => Single(gateway.SetMode(new[] { request.DeviceID }, request.ConnectionMode), new SetConnectionModeResponse()));

        public override Task<SetConnectionModeMultiResponse> SetConnectionModeMulti(SetConnectionModeMultiRequest request, ServerCallContext context) =>
            gateway.Run(() => Multi(gateway.SetMode(request.DeviceIDs, request.ConnectionMode), request.DeviceIDs.Count, new SetConnectionModeMultiResponse()));

        public override Task<EnableSSLResponse> EnableSSL(EnableSSLRequest request, ServerCallContext context) =>
            gateway.Run(() => Single(gateway.SetSsl(new[] { request.DeviceID }, true), new EnableSSLResponse()));

        public override Task<EnableSSLMultiResponse> EnableSSLMulti(EnableSSLMultiRequest request, ServerCallContext context) =>
            gateway.Run(() => Multi(gateway.SetSsl(request.DeviceIDs, true), request.DeviceIDs.Count, new EnableSSLMultiResponse()));

        public override Task<DisableSSLResponse> DisableSSL(DisableSSLRequest request, ServerCallContext context) =>
            gateway.Run(() => Single(gateway.SetSsl(new[] { request.DeviceID }, false), new DisableSSLResponse()));

        public override Task<DisableSSLMultiResponse> DisableSSLMulti(DisableSSLMultiRequest request, ServerCallContext context) =>
            gateway.Run(() => Multi(gateway.SetSsl(request.DeviceIDs, false), request.DeviceIDs.Count, new DisableSSLMultiResponse()));

        public override Task SubscribeStatus(SubscribeStatusRequest request, IServerStreamWriter<StatusChange> responseStream, ServerCallContext context) =>
            gateway.StreamStatusAsync(request, responseStream, context);
    }

    /// <summary>Passes every method on with a request deserializer that turns a parse failure into INVALID_ARGUMENT.</summary>
    private sealed class StrictRequestBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Strict(method), handler);

        private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class where TResponse : class
        {
            var parse = method.RequestMarshaller.ContextualDeserializer;
            var requests = Marshallers.Create<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
            {
                try
                {
                    return parse(context);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    throw new RpcException(new Grpc.Core.Status(StatusCode.InvalidArgument, $"The {method.Name} request does not parse: {ex.Message}"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
        }
    }
}
