// What the interop scripts share: the official JavaScript bindings (npm tinkerforge) loaded from a folder, one IP
// Connection that runs a script once connected and exits with a JSON error line when it cannot connect, and a
// promise form of a bindings call.
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const loadTinkerforge = (prefix) => createRequire(join(prefix, 'node_modules', 'tinkerforge', 'package.json'))('./Tinkerforge.js');

// Connects, runs `run(ipcon)` once connected, prints the JSON line it returns and exits.
export function runConnected(Tinkerforge, host, port, run) {
  const ipcon = new Tinkerforge.IPConnection();
  const noConnection = setTimeout(() => {
    console.log(JSON.stringify({ error: 'not connected within 10 s' }));
    process.exit(1);
  }, 10_000);
  ipcon.setTimeout(3000);
  ipcon.on(Tinkerforge.IPConnection.CALLBACK_CONNECTED, async () => {
    clearTimeout(noConnection);
    console.log(JSON.stringify(await run(ipcon)));
    ipcon.disconnect();
    process.exit(0);
  });
  ipcon.connect(host, Number(port), (code) => {
    console.log(JSON.stringify({ error: `connect failed with error ${code}` }));
    process.exit(1);
  });
}

// One call of a bindings function: resolves with its return values or the error code.
export const call = (device, name, ...args) => new Promise((resolve) => {
  device[name](...args, (...values) => resolve({ ok: true, values }), (code) => resolve({ ok: false, error: code }));
});
