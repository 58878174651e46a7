// Builds brick-catalog.json, the device catalogue DeviceShell embeds, from the facts in the official
// JavaScript bindings (npm package `tinkerforge`, CC0): device identifiers and names, function and
// callback ids, wire formats, response-expected defaults and constants. Only facts are taken; no prose.
//
// Usage: npm pack tinkerforge@2.1.35 && tar xzf tinkerforge-2.1.35.tgz
//        node generate-catalog.mjs <folder of the unpacked package> [output file]
//
// The bindings name parameters but not returns or callback values, so those names are derived:
// a getter's returns take the names of its setter's parameters (set_X(a, b) / get_X() -> a, b);
// a single return of get_X is called X; a callback's values take the names of the getter that reads
// the same thing; anything else is Value1..n.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [packageDir, outFile = new URL('./brick-catalog.json', import.meta.url).pathname] = process.argv.slice(2);
if (!packageDir) {
  console.error('usage: node generate-catalog.mjs <unpacked tinkerforge package> [output]');
  process.exit(2);
}
const libDir = join(packageDir, 'lib');
const packageVersion = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;

const pascal = (words) => words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('');
const fromSnake = (snake) => pascal(snake.split('_'));
const fromCamel = (camel) => camel.charAt(0).toUpperCase() + camel.slice(1);
const words = (pascalName) => pascalName.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+/g) ?? [];
const snakeOf = (pascalName) => words(pascalName).map((w) => w.toUpperCase()).join('_');
const formatItems = (format) => (format === '' ? [] : format.split(' '));

// Constant values are numbers, one-character strings ('x') or booleans; they are parsed, never evaluated.
function constantValue(text) {
  if (text === 'true' || text === 'false') return text === 'true';
  const quoted = text.match(/^'(.*)'$/);
  if (quoted) return quoted[1];
  const number = Number(text);
  if (Number.isNaN(number)) throw new Error(`unexpected constant value ${text}`);
  return number;
}

function parseDevice(source) {
  const cls = source.match(/^(Brick\w*)\.DEVICE_IDENTIFIER = (\d+);/m);
  if (!cls) return null;
  const [, className, identifier] = cls;
  const name = source.match(/\.DEVICE_DISPLAY_NAME = '([^']*)';/)[1];
  const statics = [...source.matchAll(new RegExp(`^${className}\\.([A-Z0-9_]+) = (.+);$`, 'gm'))];
  const functionIds = new Map();
  const callbackIds = new Map();
  const constants = [];
  for (const [, key, value] of statics) {
    if (key.startsWith('FUNCTION_')) functionIds.set(key.slice(9), Number(value));
    else if (key.startsWith('CALLBACK_')) callbackIds.set(key.slice(9), Number(value));
    else if (!key.startsWith('DEVICE_')) constants.push([key, constantValue(value)]);
  }
  const responseExpected = new Map(
    [...source.matchAll(/responseExpected\[\w+\.FUNCTION_(\w+)\] = Device\.RESPONSE_EXPECTED_(\w+);/g)]
      .map(([, fn, kind]) => [fn, { ALWAYS_TRUE: 'always', TRUE: 'true', FALSE: 'false' }[kind]]));

  const functions = [];
  const methodPattern = /this\.(\w+) = function\(([^)]*)\) \{[\s\S]*?this\.ipcon\.sendRequest\(this, \w+\.FUNCTION_(\w+), \[[^\]]*\], '([^']*)', (\d+), '([^']*)'/g;
  for (const [, method, args, fn, inFormat, responseLength, outFormat] of source.matchAll(methodPattern)) {
    // A method whose body calls a different function is a high-level wrapper; the low-level one is catalogued.
    if (snakeOf(fromCamel(method)) !== fn && functions.some((f) => f.fn === fn)) continue;
    const parameterNames = args.split(',').map((a) => a.trim()).filter((a) => a && a !== 'returnCallback' && a !== 'errorCallback');
    const inItems = formatItems(inFormat);
    if (parameterNames.length !== inItems.length) continue;
    functions.push({
      fn, name: fromCamel(method), id: functionIds.get(fn),
      parameters: inItems.map((type, i) => ({ name: fromCamel(parameterNames[i]), type })),
      outItems: formatItems(outFormat), responseLength: Number(responseLength),
      response: responseExpected.get(fn),
    });
  }
  for (const f of functions) f.returns = nameReturns(f, functions);
  // Streamed functions (long data in chunks): which returns carry the stream, and a fixed-length stream's length.
  const streamPattern = /streamStateObjects\[\w+\.FUNCTION_(\w+)\] = \{\s*'dataMapping': \[([^\]]*)\][\s\S]*?'fixedLength': (\d+|null)/g;
  for (const [, fn, mapping, fixedLength] of source.matchAll(streamPattern)) {
    const f = functions.find((x) => x.fn === fn);
    if (!f) continue;
    f.stream = { fixedLength: fixedLength === 'null' ? null : Number(fixedLength) };
    const stream = f.name.replace(/^(Get|Read)(?=[A-Z])/, '').replace(/LowLevel$/, '');
    const roles = mapping.split(',').map((m) => m.trim().replace(/'/g, ''));
    // Stream getters map their returns; stream setters (writes) their parameters.
    const values = f.returns.length === roles.length ? f.returns : f.parameters.length === roles.length ? f.parameters : [];
    values.forEach((v, i) => {
      const role = { streamLength: 'Length', streamChunkOffset: 'ChunkOffset', streamChunkData: 'ChunkData' }[roles[i]];
      if (role) v.name = stream + role;
    });
  }

  const callbacks = [...source.matchAll(/callbackFormats\[\w+\.CALLBACK_(\w+)\] = \[(\d+), '([^']*)'\];/g)]
    .map(([, cb, length, format]) => ({ name: fromSnake(cb), id: callbackIds.get(cb), length: Number(length), items: formatItems(format) }))
    .filter((c) => c.id > 0)
    .map((c) => ({ name: c.name, id: c.id, values: nameCallbackValues(c, functions) }));

  const groups = groupConstants(constants);
  for (const f of functions) {
    for (const v of [...f.parameters, ...f.returns]) attachConstantGroup(v, f.name, groups);
  }
  for (const c of callbacks) for (const v of c.values) attachConstantGroup(v, c.name, groups);

  return {
    identifier: Number(identifier), name,
    functions: functions.map((f) => ({ name: f.name, id: f.id, response: f.response, parameters: f.parameters, returns: f.returns, ...(f.stream ? { stream: f.stream } : {}) }))
      .sort((a, b) => a.id - b.id),
    callbacks: callbacks.sort((a, b) => a.id - b.id),
    constants: groups.map((g) => ({ name: fromSnake(g.prefix), values: g.values.map(([key, value]) => [fromSnake(key), value]) })),
  };
}

function nameReturns(f, functions) {
  if (f.outItems.length === 0) return [];
  if (f.fn === 'GET_IDENTITY') {
    return ['Uid', 'ConnectedUid', 'Position', 'HardwareVersion', 'FirmwareVersion', 'DeviceIdentifier']
      .map((name, i) => ({ name, type: f.outItems[i] }));
  }
  const subject = f.name.match(/^(?:Get|Read)(.+)/)?.[1] ?? null;
  const setter = subject && functions.find((s) => s.name === `Set${subject}`);
  if (setter) {
    const stored = setter.parameters.slice(f.parameters.length);
    if (stored.length === f.outItems.length && stored.every((p, i) => p.type === f.outItems[i])) {
      return stored.map((p) => ({ name: p.name, type: p.type }));
    }
  }
  if (f.outItems.length === 1) return [{ name: subject ?? 'Result', type: f.outItems[0] }];
  return f.outItems.map((type, i) => ({ name: `Value${i + 1}`, type }));
}

function nameCallbackValues(c, functions) {
  const subject = c.name.replace(/(Reached|Changed)$/, '');
  const getterOf = (s) => functions.find((g) => g.name === `Get${s}` && g.parameters.length === 0);
  const getter = getterOf(subject);
  if (getter && getter.outItems.join(' ') === c.items.join(' ')) return getter.returns.map((r) => ({ name: r.name, type: r.type }));
  // ALL_VALUE-style callbacks carry which inputs changed, then the values get_value reads.
  const whole = getterOf(subject.replace(/^All/, ''));
  if (whole && whole.outItems.length === 1 && c.items.length === 2 && c.items.every((t) => t === whole.outItems[0])) {
    return [{ name: `Changed${whole.returns[0].name}`, type: c.items[0] }, { name: whole.returns[0].name, type: c.items[1] }];
  }
  // A per-channel callback (configured with a leading Channel) carries the channel, whether it changed, and its element of get_X.
  const perChannel = functions.find((f) => f.name === `Set${c.name}CallbackConfiguration`)?.parameters[0]?.name === 'Channel';
  const element = whole?.outItems.length === 1 ? whole.outItems[0].replace(/\d+$/, '') : null;
  if (perChannel && element && c.items.length === 3 && c.items[0] === 'B' && c.items[1] === element && c.items[2] === element) {
    const name = whole.returns[0].name;
    return [{ name: 'Channel', type: 'B' }, { name: `Changed${name}`, type: element }, { name, type: element }];
  }
  if (c.items.length === 1) return [{ name: subject, type: c.items[0] }];
  return c.items.map((type, i) => ({ name: `Value${i + 1}`, type }));
}

// Constants come as GROUP_MEMBER = value, a group's members declared one after another. A group's name is the
// words its first two members share (THRESHOLD_OPTION_OFF, THRESHOLD_OPTION_OUTSIDE -> THRESHOLD_OPTION); the
// members that follow with that prefix belong to it, and so does a following member that shares at least two of
// its words (WIFI_ENCRYPTION_WPA_ENTERPRISE, WIFI_ENCRYPTION_WEP -> WIFI_ENCRYPTION); a lone constant's group is
// all but its last word.
function groupConstants(constants) {
  const groups = [];
  const sharedWords = (a, b) => {
    const x = a.split('_');
    const y = b.split('_');
    let n = 0;
    while (n < x.length - 1 && n < y.length - 1 && x[n] === y[n]) n++;
    return x.slice(0, n).join('_');
  };
  let current = null;
  constants.forEach(([key, value], i) => {
    const widened = current && sharedWords(key, `${current.prefix}_`);
    if (current && !key.startsWith(`${current.prefix}_`) && widened.split('_').length >= 2
        && !groups.some((g) => g !== current && g.prefix === widened)) {
      current.prefix = widened;
    } else if (!current || !key.startsWith(`${current.prefix}_`)) {
      const next = constants[i + 1]?.[0];
      const prefix = (next && sharedWords(key, next)) || key.split('_').slice(0, Math.max(1, key.split('_').length - 1)).join('_');
      current = groups.find((g) => g.prefix === prefix);
      if (!current) groups.push(current = { prefix, members: [] });
    }
    current.members.push([key, value]);
  });
  return groups.map((g) => ({ prefix: g.prefix, values: g.members.map(([key, value]) => [key.slice(g.prefix.length + 1) || key, value]) }));
}

// A value uses a constant group whose name ends with the value's name (Option -> THRESHOLD_OPTION);
// among several, the one sharing the most words with the function's name (Mode in SetBootloaderMode -> BOOTLOADER_MODE).
function attachConstantGroup(value, functionName, groups) {
  const valueSnake = snakeOf(value.name);
  const nameWords = new Set(words(functionName).map((w) => w.toUpperCase()));
  const candidates = groups.filter((g) => g.prefix === valueSnake || g.prefix.endsWith(`_${valueSnake}`));
  if (candidates.length === 0) return;
  const score = (g) => (g.prefix === valueSnake ? 100 : 0) + g.prefix.split('_').filter((w) => nameWords.has(w)).length;
  const best = candidates.reduce((a, b) => (score(b) > score(a) ? b : a));
  value.constants = fromSnake(best.prefix);
}

const devices = readdirSync(libDir).filter((f) => /^Brick.*\.js$/.test(f)).sort()
  .map((f) => parseDevice(readFileSync(join(libDir, f), 'utf8'))).filter(Boolean)
  .sort((a, b) => a.identifier - b.identifier);

// One line per device keeps diffs of a regenerated catalogue readable.
const lines = devices.map((d) => JSON.stringify(d));
writeFileSync(outFile, `{"source":"npm tinkerforge ${packageVersion}","devices":[\n${lines.join(',\n')}\n]}\n`);
const functionCount = devices.reduce((n, d) => n + d.functions.length, 0);
console.log(`${devices.length} devices, ${functionCount} functions -> ${outFile}`);
