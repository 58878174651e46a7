"""A plain Python socket client of the Pi button server: the Pi link peer of the bench (run with /usr/bin/python3).
Usage: pilink_go.py PORT WARMUP_SECONDS SECONDS
Sends 'go' + NUL and reads the NUL-terminated reply, one at a time, as a tcpcom client script would; prints
round trips per second after the warm-up."""
import socket
import sys
import time

port, warmup, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
pending = b''
sock = None


def go():
    global pending
    sock.sendall(b'go\0')
    while b'\0' not in pending:
        chunk = sock.recv(4096)
        if not chunk:
            sys.exit('the server closed the connection')
        pending += chunk
    _, pending = pending.split(b'\0', 1)


# The server takes one client at a time and closes newcomers at once: retry while the previous client is leaving.
for attempt in range(50):
    sock = socket.create_connection(('127.0.0.1', port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        go()
        break
    except (SystemExit, OSError):
        sock.close()
        time.sleep(0.1)
else:
    sys.exit('the server stayed occupied')
end = time.monotonic() + warmup
while time.monotonic() < end:
    go()
count, start = 0, time.monotonic()
end = start + seconds
while time.monotonic() < end:
    go()
    count += 1
print('%.1f' % (count / (time.monotonic() - start)), flush=True)
sock.close()
