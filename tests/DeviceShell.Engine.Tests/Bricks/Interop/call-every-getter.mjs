// Calls every argument-less getter of every device a Brick Daemon enumerates, through the official
// JavaScript bindings (npm tinkerforge), and prints one JSON line: {"devices":n,"calls":n,"answered":n,"failures":[...]}.
// Usage: node call-every-getter.mjs <folder holding node_modules/tinkerforge> <host> <port>
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [prefix, host, port] = process.argv.slice(2);
const Tinkerforge = createRequire(join(prefix, 'node_modules', 'tinkerforge', 'package.json'))('./Tinkerforge.js');
const classes = Object.values(Tinkerforge).filter((c) => typeof c === 'function' && typeof c.DEVICE_IDENTIFIER === 'number');
const ipcon = new Tinkerforge.IPConnection();
const found = new Map();
let quietTimer;

const fail = (message) => {
  console.log(JSON.stringify({ error: message }));
  process.exit(1);
};

// A getter takes only the result and error callbacks and reads something (get_*, is_*, read_*). The low-level
// half of a streamed getter is left out: the bindings route its answers to the high-level getter, which is called.
const isGetter = (device, name) => /^(get|is|read)[A-Z]/.test(name) && typeof device[name] === 'function' && device[name].length === 2
  && /returnCallback/.test(String(device[name])) && !(name.endsWith('LowLevel') && typeof device[name.slice(0, -'LowLevel'.length)] === 'function');

function call(device, name) {
  return new Promise((resolve) => {
    device[name]((...values) => resolve({ ok: true, values }), (code) => resolve({ ok: false, code }));
  });
}

async function callEverything() {
  clearTimeout(nothingEnumerated);
  let calls = 0;
  let answered = 0;
  const failures = [];
  for (const [uid, identifier] of found) {
    const DeviceClass = classes.find((c) => c.DEVICE_IDENTIFIER === identifier);
    if (!DeviceClass) {
      failures.push({ uid, identifier, method: null, error: 'no class in the bindings' });
      continue;
    }
    const device = new DeviceClass(uid, ipcon);
    for (const name of Object.keys(device).filter((n) => isGetter(device, n))) {
      calls++;
      const result = await call(device, name);
      if (result.ok) answered++;
      else {
        failures.push({ device: DeviceClass.DEVICE_DISPLAY_NAME, uid, method: name, error: result.code });
        console.error(`${DeviceClass.DEVICE_DISPLAY_NAME} ${uid} ${name}: error ${result.code}`);
      }
    }
  }
  console.log(JSON.stringify({ devices: found.size, calls, answered, failures }));
  ipcon.disconnect();
  process.exit(0);
}

ipcon.setTimeout(1500);
ipcon.on(Tinkerforge.IPConnection.CALLBACK_ENUMERATE, (uid, connectedUid, position, hardware, firmware, identifier, type) => {
  if (type === Tinkerforge.IPConnection.ENUMERATION_TYPE_DISCONNECTED) return;
  found.set(uid, identifier);
  clearTimeout(quietTimer);
  quietTimer = setTimeout(callEverything, 500);
});
ipcon.on(Tinkerforge.IPConnection.CALLBACK_CONNECTED, () => ipcon.enumerate());
ipcon.connect(host, Number(port), (code) => fail(`connect failed with error ${code}`));
const nothingEnumerated = setTimeout(() => fail('no device enumerated within 10 s'), 10_000);
