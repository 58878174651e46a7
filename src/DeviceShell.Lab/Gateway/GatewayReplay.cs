using System.Text.Json;
using System.Text.Json.Nodes;
using DeviceShell.Engine.Lab;
using DeviceShell.Engine.Sessions;
using DeviceShell.Lab.Hosting;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace DeviceShell.Lab.Gateway;

/// <summary>
/// Serves a gateway recording (docs/recording-format.md "Gateway") in front of the simulated gateway, as a gRPC server
/// interceptor: a unary call whose method and request were recorded gets the recorded response, or the recorded
/// status, after the recorded time (divided by the speed), in the order of <see cref="ReplaySequence{TAnswer}"/>; any
/// other call goes on to the simulator. A status subscription gets the recorded status messages at their recorded
/// times from the subscription on, then stays open; without recorded ones it is the simulator's.
/// </summary>
internal sealed class GatewayReplay : Interceptor
{
    private readonly ReplaySequence<RecordedCall> _sequence;
    private readonly ILookup<string, RecordedMessage> _streams;
    private readonly double _speed;

    private GatewayReplay(string path, IReadOnlyList<(string, RecordedCall)> calls, ILookup<string, RecordedMessage> streams, double speed)
    {
        Path = path;
        _sequence = new ReplaySequence<RecordedCall>(calls);
        _streams = streams;
        _speed = speed;
    }

    public string Path { get; }

    /// <summary>Reads a gateway recording; fails with DeviceRecordingInvalid when it is of another world.</summary>
    public static GatewayReplay Load(string path, double speed)
    {
        var recording = ReplaySetting.Load(path, DeviceWorld.Gateway, speed, "gateway");
        var calls = new List<(string, RecordedCall)>();
        var messages = new List<RecordedMessage>();
        foreach (var record in recording.Records.OrderBy(r => r.GetProperty("t").GetDouble()))
        {
            switch (record.GetProperty("kind").GetString())
            {
                case "call":
                    string method = record.GetProperty("method").GetString()!;
                    calls.Add((Key(method, record.GetProperty("request").GetRawText()), new RecordedCall(
                        record.GetProperty("ms").GetDouble(),
                        record.TryGetProperty("response", out var response) ? response.GetRawText() : null,
                        record.TryGetProperty("status", out var status) ? Enum.Parse<StatusCode>(status.GetString()!) : StatusCode.OK,
                        record.TryGetProperty("detail", out var detail) ? detail.GetString() ?? "" : "")));
                    break;
                case "receive":
                    messages.Add(new RecordedMessage(record.GetProperty("stream").GetString()!, record.GetProperty("t").GetDouble(), record.GetProperty("message").GetRawText()));
                    break;
            }
        }
        return new GatewayReplay(path, calls, messages.ToLookup(m => m.Stream), speed);
    }

    /// <summary>What the replay saw so far, for Get-LabReplayReport.</summary>
    public LabReplayReport Report() => _sequence.Report(DeviceWorld.Gateway, Path);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var recorded = _sequence.Next(Key(context.Method, Format(request)), out _);
        if (recorded is null) return await continuation(request, context).ConfigureAwait(false);
        await Task.Delay(TimeSpan.FromMilliseconds(recorded.Milliseconds / _speed), context.CancellationToken).ConfigureAwait(false);
        if (recorded.Status != StatusCode.OK) throw new RpcException(new Status(recorded.Status, recorded.Detail));
        return (TResponse)Parse<TResponse>(recorded.Response!);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (!_streams.Contains(context.Method))
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return;
        }
        long subscribed = Environment.TickCount64;
        try
        {
            foreach (var message in _streams[context.Method])
            {
                long wait = subscribed + (long)(message.Milliseconds / _speed) - Environment.TickCount64;
                if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait), context.CancellationToken).ConfigureAwait(false);
                await responseStream.WriteAsync((TResponse)Parse<TResponse>(message.Json)).ConfigureAwait(false);
            }
            await Task.Delay(Timeout.Infinite, context.CancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client closed its subscription.
        }
    }

    /// <summary>A request as the recording keys it: the method, then the message as protobuf JSON with every field.</summary>
    private static string Key(string method, string requestJson) => method + " " + Canonical(requestJson);

    /// <summary>JSON without its whitespace, so that the recorder's and the replay's formatting compare equal.</summary>
    private static string Canonical(string json) => JsonNode.Parse(json)?.ToJsonString() ?? "null";

    private static string Format<T>(T message) => message is IMessage protobuf ? Canonical(Formatter.Format(protobuf)) : "null";

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    private static object Parse<T>(string json)
    {
        var descriptor = (MessageDescriptor)typeof(T).GetProperty("Descriptor")!.GetValue(null)!;
        return JsonParser.Default.Parse(json, descriptor);
    }

    private sealed record RecordedCall(double Milliseconds, string? Response, StatusCode Status, string Detail);

    private sealed record RecordedMessage(string Stream, double Milliseconds, string Json);
}
