"""Two Webifi WebSocket clients on Debian's python3-websocket (websocket-client): the Webifi peer of the bench.
Usage: webifi_ws.py HOST PORT SECONDS PAYLOAD_BYTES WINDOW NETWORK
Logs two sessions in (the relay's sample account webifi/pswd), the receiver listening on NETWORK and the sender on
none; the sender keeps WINDOW data frames (one message each, `~n=NETWORK~d=...~t=1`) unacknowledged and counts `rt=s` answers, the receiver
counts the `d` fields of `rt=r`. Prints {"messages": received per second, "sent": n, "received": n}."""
import json
import sys
import threading
import time
import urllib.request

import websocket

host, port, seconds, size, window, network = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
base = 'http://%s:%d' % (host, port)


def fields(message):
    """(key, value) pairs of a tilde-encoded message (values here hold no escaped tildes)."""
    return [tuple(part.split('=', 1)) for part in message.split('~')[1:] if '=' in part]


def text(frame):
    return frame.decode('latin-1') if isinstance(frame, bytes) else frame


def login(network):
    request = urllib.request.Request(base + '/', data=b'~p=1~cn=webifi~cp=pswd', headers={'Content-type': 'application/octet-stream'})
    with urllib.request.urlopen(request, timeout=10) as response:
        device = dict(fields(response.read().decode('latin-1')))['id']
    ws = websocket.create_connection('ws://%s:%d/api/WebSocket' % (host, port), timeout=10)
    ws.send('~id=%s~t=1' % device)
    ws.send('~nc=1' + ('~ns=' + network if network else '') + '~t=1')
    answers = ''
    while answers.count('~t=1') < 2:
        answers += text(ws.recv())
    return ws


def messages(ws, buffered):
    """Yields each complete message (without its ~t=1) as it arrives."""
    while True:
        frame = ws.recv()
        buffered += text(frame)
        while '~t=1' in buffered:
            message, buffered = buffered.split('~t=1', 1)
            yield message


receiver = login(network)
sender = login(None)
received = 0


def receive():
    global received
    for message in messages(receiver, ''):
        received += sum(1 for key, _ in fields(message) if key == 'd')


frame = '~n=%s~d=%s~t=1' % (network, 'x' * size)
sent = 0
acknowledged = 0
reader = threading.Thread(target=receive, daemon=True)
reader.start()
acks = messages(sender, '')
start = time.monotonic()
end = start + seconds
while time.monotonic() < end:
    while sent - acknowledged < window:
        sender.send(frame)
        sent += 1
    if ('rt', 's') in fields(next(acks)):
        acknowledged += 1
while acknowledged < sent:
    if ('rt', 's') in fields(next(acks)):
        acknowledged += 1
deadline = time.monotonic() + 10
while received < sent and time.monotonic() < deadline:
    time.sleep(0.0005)
elapsed = time.monotonic() - start
print(json.dumps({'messages': received / elapsed, 'sent': sent, 'received': received}), flush=True)
