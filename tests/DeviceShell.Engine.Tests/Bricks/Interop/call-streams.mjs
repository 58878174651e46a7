// Calls the official JavaScript bindings' (npm tinkerforge) high-level stream functions against a Brick Daemon and
// prints one JSON line with what came back: {"name": {"ok":true,...} | {"ok":false,"error":code}, ...}.
// Usage: node call-streams.mjs <folder holding node_modules/tinkerforge> <host> <port> <lcd uid> <led strip uid>
//        <rs232 uid (in loopback)> <thermal imaging uid> <energy monitor uid>
import { call, loadTinkerforge, runConnected } from './bindings.mjs';

const [prefix, host, port, lcdUid, stripUid, serialUid, thermalUid, energyUid] = process.argv.slice(2);
const Tinkerforge = loadTinkerforge(prefix);

const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

runConnected(Tinkerforge, host, port, async (ipcon) => {
  const results = {};
  const lcd = new Tinkerforge.BrickletLCD128x64(lcdUid, ipcon);
  const pixels = Array.from({ length: 128 * 64 }, (_, i) => (i % 128 + Math.floor(i / 128)) % 3 === 0);
  const wrote = await call(lcd, 'writePixels', 0, 0, 127, 63, pixels);
  const read = await call(lcd, 'readPixels', 0, 0, 127, 63);
  results.writePixels_readPixels = { ok: wrote.ok && read.ok && same(read.values[0], pixels), error: wrote.error ?? read.error, length: read.values?.[0]?.length };

  const strip = new Tinkerforge.BrickletLEDStripV2(stripUid, ipcon);
  const colours = Array.from({ length: 450 }, (_, i) => (i * 7) % 256);
  const set = await call(strip, 'setLEDValues', 0, colours);
  const got = await call(strip, 'getLEDValues', 0, 450);
  results.setLEDValues_getLEDValues = { ok: set.ok && got.ok && same(got.values[0], colours), error: set.error ?? got.error, length: got.values?.[0]?.length };

  const serial = new Tinkerforge.BrickletRS232V2(serialUid, ipcon);
  const message = [...'The quick brown fox jumps over the lazy dog. '.repeat(3)];
  const written = await call(serial, 'write', message);
  const received = await call(serial, 'read', 200);
  results.write_read = { ok: written.ok && received.ok && written.values[0] === message.length && same(received.values[0], message), error: written.error ?? received.error, length: received.values?.[0]?.length };

  const thermal = new Tinkerforge.BrickletThermalImaging(thermalUid, ipcon);
  const image = await call(thermal, 'getTemperatureImage');
  results.getTemperatureImage = { ok: image.ok && image.values[0].length === 4800, error: image.error, length: image.values?.[0]?.length };

  const energy = new Tinkerforge.BrickletEnergyMonitor(energyUid, ipcon);
  const waveform = await call(energy, 'getWaveform');
  results.getWaveform = { ok: waveform.ok && waveform.values[0].length === 1536, error: waveform.error, length: waveform.values?.[0]?.length };

  return results;
});
