"""A tiny grpcio gsdk.connect.Connect server for DeviceShell's client tests.
Usage: connect_server.py STUBS CERT_FILE KEY_FILE [quiet]. Prints the port, then serves until stdin closes.
The server keeps grpcio's default settings (its HTTP/2 ping policy included). With "quiet", SubscribeStatus
prints "subscribe" for every call, sends its headers at once and then holds the stream open without a message:
a healthy gateway where nothing happens."""
import sys
import time

sys.path.insert(0, sys.argv[1])
from concurrent import futures  # noqa: E402
import grpc  # noqa: E402
import connect_pb2  # noqa: E402
import connect_pb2_grpc  # noqa: E402
import err_pb2  # noqa: E402
from google.rpc import status_pb2  # noqa: E402


class Connect(connect_pb2_grpc.ConnectServicer):
    def GetDeviceList(self, request, context):
        return connect_pb2.GetDeviceListResponse(deviceInfos=[
            connect_pb2.DeviceInfo(deviceID=1, type=13, IPAddr='10.0.0.1', port=51211, status=connect_pb2.TCP_CONNECTED, autoReconnect=True),
            connect_pb2.DeviceInfo(deviceID=2, type=18, IPAddr='10.0.0.2', port=51211, status=connect_pb2.TLS_NOT_ALLOWED, useSSL=True)])

    def GetAcceptFilter(self, request, context):
        # The session's connect check.
        return connect_pb2.GetAcceptFilterResponse(filter=connect_pb2.AcceptFilter())

    def SearchDevice(self, request, context):
        # A search that overruns its own timeout by 3 s, for the client's deadline test.
        time.sleep(request.timeout / 1000.0 + 3)
        return connect_pb2.SearchDeviceResponse()

    def Disconnect(self, request, context):
        context.abort(grpc.StatusCode.NOT_FOUND, 'no such device: {} (ünïcode 100%)'.format(list(request.deviceIDs)))

    def EnableSSLMulti(self, request, context):
        multi = err_pb2.MultiErrorResponse(deviceErrors=[err_pb2.ErrorResponse(deviceID=i, code=9, msg='not connected') for i in request.deviceIDs if i > 100])
        status = status_pb2.Status(code=grpc.StatusCode.INTERNAL.value[0], message='multi failed')
        status.details.add().Pack(multi)
        context.set_trailing_metadata((('grpc-status-details-bin', status.SerializeToString()),))
        context.abort(grpc.StatusCode.INTERNAL, 'multi failed')

    def SubscribeStatus(self, request, context):
        if QUIET:
            print('subscribe', flush=True)
            context.send_initial_metadata(())
            while context.is_active():
                time.sleep(0.05)
            return
        # grpcio sends the response headers only with the first message; the first change comes 4 s late on purpose.
        time.sleep(4)
        for i in range(3):
            yield connect_pb2.StatusChange(deviceID=10 + i, status=connect_pb2.TCP_CONNECTED, timestamp=1700000000 + i)
        while context.is_active():
            time.sleep(0.05)


QUIET = len(sys.argv) > 4 and sys.argv[4] == 'quiet'
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
connect_pb2_grpc.add_ConnectServicer_to_server(Connect(), server)
with open(sys.argv[2], 'rb') as cert, open(sys.argv[3], 'rb') as key:
    credentials = grpc.ssl_server_credentials([(key.read(), cert.read())])
port = server.add_secure_port('127.0.0.1:0', credentials)
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop(0)
