"""GetDeviceList calls from Debian's grpcio (run with /usr/bin/python3): the gateway peer of the bench.
Usage: grpcio_get_device_list.py PROTO_ROOT WELL_KNOWN_PROTOS HOST PORT CA_FILE MODE WARMUP_SECONDS SECONDS IN_FLIGHT
Generates its stubs from our .proto files with protoc and grpc_python_plugin (before any clock starts), then prints
calls per second:
  warm  after WARMUP_SECONDS of calls, IN_FLIGHT threads calling for SECONDS;
  cold  calls completed within SECONDS of creating the channel (connection, TLS and HTTP/2 set-up included), one at a time,
        then the milliseconds from creating the channel to the first answer."""
import subprocess
import sys
import tempfile
import threading
import time

proto_root, well_known, host, port, ca_file, mode = sys.argv[1:7]
warmup, seconds, in_flight = float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])

stubs = tempfile.mkdtemp(prefix='deviceshell-bench-pystubs-')
subprocess.run(['protoc', '-I' + proto_root, '-I' + well_known, '--python_out=' + stubs, '--grpc_python_out=' + stubs,
                '--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin',
                'connect.proto', 'device.proto', 'err.proto'], check=True)
sys.path.insert(0, stubs)
import grpc  # noqa: E402
import connect_pb2  # noqa: E402
import connect_pb2_grpc  # noqa: E402

with open(ca_file, 'rb') as f:
    credentials = grpc.ssl_channel_credentials(f.read())
request = connect_pb2.GetDeviceListRequest()

start = time.monotonic()
channel = grpc.secure_channel('{}:{}'.format(host, port), credentials)
stub = connect_pb2_grpc.ConnectStub(channel)


def calls_until(deadline, counts, slot):
    while time.monotonic() < deadline:
        stub.GetDeviceList(request, timeout=30)
        if time.monotonic() <= deadline:
            counts[slot] += 1


def rate(threads, began, window):
    counts = [0] * threads
    workers = [threading.Thread(target=calls_until, args=(began + window, counts, i)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / window


if mode == 'cold':
    stub.GetDeviceList(request, timeout=30)
    first = (time.monotonic() - start) * 1000
    first_counted = 1 if first <= seconds * 1000 else 0
    print('%.1f %.1f' % ((first_counted + rate(1, start, seconds) * seconds) / seconds, first), flush=True)
else:
    rate(in_flight, time.monotonic(), warmup)
    print('%.1f' % rate(in_flight, time.monotonic(), seconds), flush=True)
channel.close()
