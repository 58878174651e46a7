using System.Diagnostics;
using DeviceShell.Engine.Sessions.Recording;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DeviceShell.Engine.Gateway;

/// <summary>
/// Writes a gateway session's RPCs to its recording (docs/recording-format.md "Gateway"): each unary call as one
/// <c>call</c> record with the method, the request and the response as protobuf JSON (or the gRPC status it failed
/// with), and each message of a server stream as a <c>receive</c> record. One check of the session's recording per
/// call when nothing records. The gateway's API carries no secret, so requests are written whole.
/// </summary>
internal sealed class GatewayRecordingInterceptor(Func<DeviceRecorder?> recording) : Interceptor
{
    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        var call = continuation(request, context);
        if (recording() is not { } recorder) return call;
        long started = Stopwatch.GetTimestamp();
        string method = context.Method.FullName;
        string requestJson = Json(request);
        double t = recorder.Now;
        return new AsyncUnaryCall<TResponse>(RecordAsync(), call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);

        async Task<TResponse> RecordAsync()
        {
            try
            {
                var response = await call.ResponseAsync.ConfigureAwait(false);
                recorder.WriteAt(t, "call", new RecordField("method", method), RecordField.Json("request", requestJson),
                    new RecordField("ms", Stopwatch.GetElapsedTime(started).TotalMilliseconds), RecordField.Json("response", Json(response)));
                return response;
            }
            catch (RpcException ex)
            {
                recorder.WriteAt(t, "call", new RecordField("method", method), RecordField.Json("request", requestJson),
                    new RecordField("ms", Stopwatch.GetElapsedTime(started).TotalMilliseconds), new RecordField("status", ex.StatusCode.ToString()),
                    new RecordField("detail", ex.Status.Detail));
                throw;
            }
        }
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        var call = continuation(request, context);
        var stream = new RecordingStream<TResponse>(call.ResponseStream, context.Method.FullName, recording);
        return new AsyncServerStreamingCall<TResponse>(stream, call.ResponseHeadersAsync, call.GetStatus, call.GetTrailers, call.Dispose);
    }

    /// <summary>A message as protobuf JSON, every field written (a replay must give back zeros and empty lists as well).</summary>
    private static string Json<T>(T message) => message is IMessage protobuf ? Formatter.Format(protobuf) : "null";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>A server stream whose messages are recorded as they are read, while a recording runs.</summary>
    private sealed class RecordingStream<T>(IAsyncStreamReader<T> inner, string method, Func<DeviceRecorder?> recording) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            bool more = await inner.MoveNext(cancellationToken).ConfigureAwait(false);
            if (more && recording() is { } recorder)
                recorder.Write("receive", new RecordField("stream", method), RecordField.Json("message", Json(inner.Current)));
            return more;
        }
    }
}
