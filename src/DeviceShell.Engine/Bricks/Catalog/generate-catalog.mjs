// Builds brick-catalog.json, the device catalogue DeviceShell embeds, from two sets of facts (CC0):
// - the official JavaScript bindings (npm package `tinkerforge`): device identifiers and names, function
//   and callback ids, wire formats, response-expected defaults and constants;
// - tinkerforge-api-facts.json beside this file (see FACTS.md): the device configurations the bindings are
//   generated from, with every element's name, unit, scale, range, default and constant group and the
//   high-level stream definitions.
// Only facts are taken; no prose.
//
// Usage: npm pack tinkerforge@2.1.35 && tar xzf tinkerforge-2.1.35.tgz
//        node generate-catalog.mjs <folder of the unpacked package> [output file]
//
// Names of values come from the configurations. Where a packet has none there (or its elements do not
// match the bindings' wire format), they are derived as before: a getter's returns take the names of its
// setter's parameters (set_X(a, b) / get_X() -> a, b); a single return of get_X is called X; a callback's
// values take the names of the getter that reads the same thing; anything else is Value1..n.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [packageDir, outFile = new URL('./brick-catalog.json', import.meta.url).pathname] = process.argv.slice(2);
if (!packageDir) {
  console.error('usage: node generate-catalog.mjs <unpacked tinkerforge package> [output]');
  process.exit(2);
}
const libDir = join(packageDir, 'lib');
const packageVersion = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
const facts = JSON.parse(readFileSync(new URL('./tinkerforge-api-facts.json', import.meta.url), 'utf8'));
const factsCommit = facts.source.match(/[0-9a-f]{40}/)[0];
const factsByIdentifier = new Map(facts.devices.map((d) => [d.device_identifier, d]));
const unmatched = [];

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
  const factGroups = applyFacts(Number(identifier), functions, callbacks, constants);

  return {
    identifier: Number(identifier), name,
    functions: functions.map((f) => ({ name: f.name, id: f.id, response: f.response, parameters: f.parameters, returns: f.returns, ...(f.stream ? { stream: f.stream } : {}), ...(f.highLevel ? { highLevel: f.highLevel } : {}) }))
      .sort((a, b) => a.id - b.id),
    callbacks: callbacks.sort((a, b) => a.id - b.id).map((c) => ({ name: c.name, id: c.id, values: c.values, ...(c.highLevel ? { highLevel: c.highLevel } : {}) })),
    constants: [
      ...factGroups,
      ...groups.filter((g) => !factGroups.some((f) => f.name === fromSnake(g.prefix)))
        .map((g) => ({ name: fromSnake(g.prefix), values: g.values.map(([key, value]) => [memberName(key), value, `${g.prefix}_${key}`]) })),
    ],
  };
}

// --- Facts of the device configurations -------------------------------------------------------------------

const factType = { int8: 'b', uint8: 'B', int16: 'h', uint16: 'H', int32: 'i', uint32: 'I', int64: 'q', uint64: 'Q', float: 'f', bool: '?', char: 'c', string: 's' };
const formatOf = (e) => factType[e.type] + (e.count === 1 && e.type !== 'string' ? '' : String(e.count));
const pascalWords = (text) => text.split(/[ _]/).filter(Boolean).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
const upperSnake = (text) => text.toUpperCase().replace(/[ .]/g, '_');

// A constant's name in PascalCase from the bindings' words (1_1MS), keeping a decimal point where the words are
// the two halves of a number with its unit (1.1ms, 0.781hz); other digit-digit joins keep an underscore (1_20th).
function memberName(snake) {
  const parts = snake.split('_');
  return parts.reduce((name, part, i) => {
    const word = part.charAt(0).toUpperCase() + part.slice(1).toLowerCase();
    if (i === 0) return word;
    if (/\d$/.test(name) && /^\d/.test(part)) {
      return name + (/^\d+$/.test(parts[i - 1]) && /^\d+(HZ|MS|US)$/.test(part) ? '.' : '_') + word;
    }
    return name + word;
  }, '');
}

// Scale, unit, range and default of a configuration element, as the catalogue stores them: scale [num, den]
// (a person reads raw * num / den), a range as [min, max] pairs of raw values (null = the type's bound).
function valueFacts(element) {
  const result = {};
  if (Array.isArray(element.scale) && element.scale.every(Number.isInteger) && !(element.scale[0] === 1 && element.scale[1] === 1)) result.scale = element.scale;
  if (typeof element.unit === 'string') result.unit = element.unit;
  // A scaled element without a unit is a dimensionless quantity (quaternion, power factor, DOP): its unit is one.
  else if (result.scale) result.unit = '1';
  const r = element.range;
  if (Array.isArray(r) && r.length === 2 && r.every((x) => x === null || typeof x === 'number')) result.range = [r];
  else if (Array.isArray(r) && r.every((x) => Array.isArray(x) && x.length === 2 && x.every((y) => typeof y === 'number'))) result.range = r;
  if (element.default !== undefined && (typeof element.default !== 'string' || element.type === 'char' || element.type === 'string')) result.default = element.default;
  return result;
}

// Renames values after the configuration's elements of one direction when they match the wire format one to one.
function nameFromFacts(values, elements, where) {
  const formats = values.map((v) => v.type);
  if (elements.length !== values.length || elements.some((e, i) => formatOf(e) !== formats[i])) {
    unmatched.push(where);
    return;
  }
  const names = elements.map((e) => pascalWords(e.name));
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length) {
    unmatched.push(`${where} (repeated names)`);
    return;
  }
  values.forEach((v, i) => {
    // The name derived before the configurations were read stays as an alias, so scripts written against it still run.
    if (v.name.toLowerCase() !== names[i].toLowerCase() && !/^(Value\d+|Result)$/.test(v.name)) v.formerName = v.name;
    v.name = names[i];
    Object.assign(v, valueFacts(elements[i]));
    if (elements[i].constant_group) v.constants = pascalWords(elements[i].constant_group);
    else delete v.constants;
  });
}

function applyFacts(identifier, functions, callbacks, constants) {
  const device = factsByIdentifier.get(identifier);
  if (!device) {
    unmatched.push(`device ${identifier}`);
    return [];
  }
  const features = new Set(device.features);
  const packets = [...device.packets, ...facts.common_packets.filter((p) => features.has(p.feature))];
  const find = (type, name) => packets.find((p) => p.type === type && pascalWords(p.name).toLowerCase() === name.toLowerCase());
  for (const f of functions) {
    const packet = find('function', f.name);
    if (!packet) {
      unmatched.push(`${device.name}.${f.name}`);
      continue;
    }
    nameFromFacts(f.parameters, packet.elements.filter((e) => e.direction === 'in'), `${device.name}.${f.name} in`);
    nameFromFacts(f.returns, packet.elements.filter((e) => e.direction === 'out'), `${device.name}.${f.name} out`);
    if (packet.high_level) f.highLevel = highLevelOf(packet);
  }
  for (const c of callbacks) {
    const packet = find('callback', c.name);
    if (!packet) {
      unmatched.push(`${device.name}.${c.name} callback`);
      continue;
    }
    nameFromFacts(c.values, packet.elements, `${device.name}.${c.name} callback`);
    if (packet.high_level) c.highLevel = highLevelOf(packet);
  }
  // Constant groups as the configuration has them, with the bindings' key of each member (checked to exist).
  const bindingsValues = new Map(constants);
  const groupsInUse = new Set([...functions.flatMap((f) => [...f.parameters, ...f.returns]), ...callbacks.flatMap((c) => c.values)].map((v) => v.constants).filter(Boolean));
  const factGroups = [...device.constant_groups, ...facts.common_constant_groups.filter((g) => groupsInUse.has(pascalWords(g.name)))];
  return factGroups.map((g) => {
    const prefix = upperSnake(g.name);
    // Members newer than the bindings' version are left out, so the catalogue speaks what its bindings speak.
    const values = g.constants.filter(([member, value]) => bindingsValues.get(`${prefix}_${upperSnake(member)}`) === value)
      .map(([member, value]) => [memberName(upperSnake(member)), value, `${prefix}_${upperSnake(member)}`]);
    return { name: pascalWords(g.name), values };
  }).filter((g, i, all) => all.findIndex((x) => x.name === g.name) === i);
}

// The high-level side of a stream packet: which way it streams, the stream's name, a fixed length, whether it is
// one chunk only.
function highLevelOf(packet) {
  const [direction, stream] = Object.entries(packet.high_level).find(([key]) => key.startsWith('stream_')) ?? [];
  if (!stream) return undefined;
  return {
    direction: direction === 'stream_in' ? 'in' : 'out', name: pascalWords(stream.name),
    ...(stream.fixed_length ? { fixedLength: stream.fixed_length } : {}), ...(stream.single_chunk ? { singleChunk: true } : {}),
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
writeFileSync(outFile, `{"source":"npm tinkerforge ${packageVersion}","facts":"Tinkerforge/generators ${factsCommit}","devices":[\n${lines.join(',\n')}\n]}\n`);
const functionCount = devices.reduce((n, d) => n + d.functions.length, 0);
console.log(`${devices.length} devices, ${functionCount} functions -> ${outFile}`);
if (unmatched.length > 0) console.log(`not matched to the configurations (${unmatched.length}):\n  ${unmatched.join('\n  ')}`);
