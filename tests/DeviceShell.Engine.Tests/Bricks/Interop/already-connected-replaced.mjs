// What the official JavaScript bindings (npm tinkerforge) answer where DeviceShell raises BrickAlreadyConnected and
// BrickDeviceReplaced, against a Brick Daemon; prints one JSON line {"name": {"ok":true} | {"ok":false,"error":code}, ...}.
// Usage: node already-connected-replaced.mjs <folder holding node_modules/tinkerforge> <host> <port>
//        <uid of a Temperature Bricklet 2.0> <uid of a Humidity Bricklet 2.0>
import { call, loadTinkerforge, runConnected } from './bindings.mjs';

const [prefix, host, port, temperatureUid, humidityUid] = process.argv.slice(2);
const Tinkerforge = loadTinkerforge(prefix);

runConnected(Tinkerforge, host, port, async (ipcon) => {
  const results = {};
  results.connectAgain = await new Promise((resolve) => {
    ipcon.connect(host, Number(port), (code) => resolve({ ok: false, error: code }));
    setTimeout(() => resolve({ ok: true }), 2000);
  });

  const first = new Tinkerforge.BrickletTemperatureV2(temperatureUid, ipcon);
  results.firstObject = await call(first, 'getTemperature');
  const second = new Tinkerforge.BrickletTemperatureV2(temperatureUid, ipcon);
  results.replacedObject = await call(first, 'getTemperature');
  results.newObject = await call(second, 'getTemperature');
  results.wrongType = await call(new Tinkerforge.BrickletTemperatureV2(humidityUid, ipcon), 'getTemperature');

  return results;
});
