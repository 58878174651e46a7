// The official Tinkerforge JavaScript bindings (npm tinkerforge) as the Bricks peer of the bench.
// Usage: node tinkerforge.js MODULE_DIR PORT MODE ARGS...
//   getters WARMUP_SECONDS SECONDS UID[,UID...]  get_temperature of Temperature Bricklet 2.0 devices, one call in flight per
//                                                device (one UID: sequential); prints calls/s after the warm-up
//   flood COUNT UID                              counts TEMPERATURE callbacks of UID until COUNT arrived or none came for 2 s;
//                                                prints {"delivered": n, "seconds": s} (s from the first callback to the last)
const path = require('path');
const Tinkerforge = require(path.join(process.argv[2], 'node_modules', 'tinkerforge'));
const port = Number(process.argv[3]);
const mode = process.argv[4];
const ipcon = new Tinkerforge.IPConnection();
ipcon.setTimeout(10000);

function fail(error) {
    process.stderr.write(`tinkerforge peer: error ${error}\n`);
    process.exit(1);
}

function getters(warmupSeconds, seconds, uids) {
    const devices = uids.map(uid => new Tinkerforge.BrickletTemperatureV2(uid, ipcon));
    let counting = false;
    let count = 0;
    let start = 0;
    let running = devices.length;
    const end = () => {
        if (--running === 0) {
            console.log((count / ((Date.now() - start) / 1000)).toFixed(1));
            ipcon.disconnect();
        }
    };
    const loop = device => device.getTemperature(() => {
        if (counting) {
            count++;
            if (Date.now() - start >= seconds * 1000) return end();
        }
        loop(device);
    }, fail);
    ipcon.on(Tinkerforge.IPConnection.CALLBACK_CONNECTED, () => {
        devices.forEach(loop);
        setTimeout(() => { counting = true; start = Date.now(); }, warmupSeconds * 1000);
    });
}

function flood(count, uid) {
    const device = new Tinkerforge.BrickletTemperatureV2(uid, ipcon);
    let delivered = 0;
    let first = 0;
    let last = 0;
    const done = () => {
        console.log(JSON.stringify({ delivered, seconds: delivered > 0 ? (last - first) / 1000 : 0 }));
        process.exit(0);
    };
    device.on(Tinkerforge.BrickletTemperatureV2.CALLBACK_TEMPERATURE, () => {
        last = Date.now();
        if (delivered++ === 0) first = last;
        if (delivered === count) done();
    });
    const started = Date.now();
    setInterval(() => { if (last ? Date.now() - last > 2000 : Date.now() - started > 30000) done(); }, 500);
}

ipcon.connect('127.0.0.1', port, fail);
if (mode === 'getters') getters(Number(process.argv[5]), Number(process.argv[6]), process.argv[7].split(','));
else if (mode === 'flood') flood(Number(process.argv[5]), process.argv[6]);
else fail(`unknown mode ${mode}`);
