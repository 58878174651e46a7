"""A grpcio client that talks to DeviceShell's gateway simulator the way the official G-SDK Python example does
(secure channel trusting the CA file, no options, no metadata). Usage: connect_client.py STUBS HOST PORT CA_FILE.
Prints one 'ok <step>' line per checked step; any failure raises and exits non-zero."""
import sys
import threading

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import connect_pb2  # noqa: E402
import connect_pb2_grpc  # noqa: E402
import err_pb2  # noqa: E402
from google.rpc import status_pb2  # noqa: E402

host, port, ca_file = sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(ca_file, 'rb') as f:
    credentials = grpc.ssl_channel_credentials(f.read())
channel = grpc.secure_channel('{}:{}'.format(host, port), credentials)
stub = connect_pb2_grpc.ConnectStub(channel)

assert len(stub.GetDeviceList(connect_pb2.GetDeviceListRequest()).deviceInfos) == 0
print('ok unary', flush=True)

found = stub.SearchDevice(connect_pb2.SearchDeviceRequest(timeout=100)).deviceInfos
assert sorted(d.type for d in found if d.connectionMode == connect_pb2.SERVER_TO_DEVICE) == [12, 13, 18], found
print('ok search', flush=True)

status_stream = stub.SubscribeStatus(connect_pb2.SubscribeStatusRequest(queueSize=16))
changes = []
ended = []
connected = threading.Event()


def read_status():
    try:
        for change in status_stream:
            changes.append(change)
            if change.status == connect_pb2.TCP_CONNECTED:
                connected.set()
    except grpc.RpcError as e:
        ended.append(e.code())


reader = threading.Thread(target=read_status)
reader.start()
device_id = 0
for _ in range(50):  # the subscription is registered asynchronously; connect until the change arrives
    if device_id == 0:
        device_id = stub.Connect(connect_pb2.ConnectRequest(connectInfo=connect_pb2.ConnectInfo(IPAddr='192.168.0.110', port=51211))).deviceID
    else:
        stub.Disconnect(connect_pb2.DisconnectRequest(deviceIDs=[device_id]))
        stub.Connect(connect_pb2.ConnectRequest(connectInfo=connect_pb2.ConnectInfo(IPAddr='192.168.0.110', port=51211)))
    if connected.wait(0.2):
        break
assert connected.is_set(), 'no TCP_CONNECTED change arrived'
assert device_id == 544140286
print('ok streaming', flush=True)

status_stream.cancel()
reader.join(5)
assert not reader.is_alive() and ended == [grpc.StatusCode.CANCELLED], ended
print('ok cancel', flush=True)

try:
    stub.Disconnect(connect_pb2.DisconnectRequest(deviceIDs=[12345]))
    raise AssertionError('Disconnect of an unknown device succeeded')
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.NOT_FOUND and '12345' in e.details(), (e.code(), e.details())
print('ok error', flush=True)

try:
    stub.EnableSSLMulti(connect_pb2.EnableSSLMultiRequest(deviceIDs=[device_id, 777]))
    raise AssertionError('EnableSSLMulti with an unknown device succeeded')
except grpc.RpcError as e:
    details = dict(e.trailing_metadata())['grpc-status-details-bin']
    status = status_pb2.Status.FromString(details)
    multi = err_pb2.MultiErrorResponse()
    assert status.details[0].Is(err_pb2.MultiErrorResponse.DESCRIPTOR)
    status.details[0].Unpack(multi)
    assert [(d.deviceID, d.code) for d in multi.deviceErrors] == [(777, grpc.StatusCode.NOT_FOUND.value[0])], multi
print('ok multi-error', flush=True)
channel.close()
