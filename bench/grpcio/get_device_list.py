"""GetDeviceList calls per second from Debian's grpcio, the reference the gateway suite compares our client with.
Usage: get_device_list.py PROTO_ROOT WELL_KNOWN_PROTOS HOST PORT CA_FILE SECONDS IN_FLIGHT
Generates its stubs from our .proto files with protoc and grpc_python_plugin, then prints one JSON line:
{"sequential": calls/s with one call at a time, "parallel": calls/s with IN_FLIGHT calls at a time}."""
import json
import subprocess
import sys
import tempfile
import threading
import time

proto_root, well_known, host, port, ca_file = sys.argv[1:6]
seconds, in_flight = float(sys.argv[6]), int(sys.argv[7])

stubs = tempfile.mkdtemp(prefix='deviceshell-bench-pystubs-')
subprocess.run(['protoc', '-I' + proto_root, '-I' + well_known, '--python_out=' + stubs, '--grpc_python_out=' + stubs,
                '--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin',
                'connect.proto', 'device.proto', 'err.proto'], check=True)
sys.path.insert(0, stubs)
import grpc  # noqa: E402
import connect_pb2  # noqa: E402
import connect_pb2_grpc  # noqa: E402

with open(ca_file, 'rb') as f:
    channel = grpc.secure_channel('{}:{}'.format(host, port), grpc.ssl_channel_credentials(f.read()))
stub = connect_pb2_grpc.ConnectStub(channel)
request = connect_pb2.GetDeviceListRequest()


def calls_until(deadline, counts, slot):
    while time.monotonic() < deadline:
        stub.GetDeviceList(request, timeout=30)
        counts[slot] += 1


def rate(threads):
    counts = [0] * threads
    start = time.monotonic()
    workers = [threading.Thread(target=calls_until, args=(start + seconds, counts, i)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.monotonic() - start)


for _ in range(20):  # warm-up: connection, TLS session, first allocations
    stub.GetDeviceList(request, timeout=30)
print(json.dumps({'sequential': rate(1), 'parallel': rate(in_flight)}), flush=True)
channel.close()
