// `bench --scenario FILE`: several scenarios in one JSON or YAML file, each a name and the load and run
// flags of `midge bench` by their long names (count, subs, topic, sub-topic, qos, size, rate...).
// Reads and checks the file: every error is one line naming the file, the scenario and the key.
import {readFile} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'
import {parse as parseYaml} from 'yaml'
import {parseDuration, parseQuantity, parseSize} from '../../bench/units.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {parseProperties} from '../common/properties.js'
import type {BenchFlagValues} from './flags.js'

export interface Scenario {
  name: string
  /** The flag values this scenario sets (over the command line's). */
  flags: Partial<BenchFlagValues>
  /** `payload-file`: the path as written (relative to the scenario file), then its bytes. */
  payloadFile?: string
  payload?: Buffer
}

type Kind = 'count' | 'int' | 'qos' | 'size' | 'quantity' | 'duration' | 'bool' | 'topic' | 'topics' | 'version' | 'properties'

/** The keys a scenario may set, by flag name, and how their values read. */
const KEYS: Record<string, Kind> = {
  count: 'count', subs: 'count', topic: 'topic', 'sub-topic': 'topics', qos: 'qos', size: 'size', retain: 'bool',
  rate: 'quantity', 'interval-of-msg': 'count', inflight: 'count', 'max-outstanding': 'int', 'open-loop': 'bool', limit: 'quantity',
  duration: 'duration', warmup: 'duration', drain: 'duration', 'protocol-version': 'version', 'session-expiry-interval': 'int',
  property: 'properties',
}
/** Plainer names for two of them. */
const ALIASES: Record<string, string> = {publishers: 'count', subscribers: 'subs'}
const VERSIONS = new Set(['5', 'mqttv5', '311', 'mqttv311', '31', 'mqttv31'])

/** The scenarios file shipped with midge (the presets of `npm run bench:compare`). */
export function builtinScenarioFile(root: string): string {
  return join(root, 'scenarios', 'builtin.yaml')
}

/**
 * `--scenario FILE`, `--scenario builtin` or `--scenario builtin:NAME[,NAME]`: the scenarios to run, in
 * the file's order. Exit 10 for a file that cannot be read or is malformed.
 */
export async function loadScenarios(spec: string, root: string): Promise<{file: string; scenarios: Scenario[]}> {
  const builtin = /^builtin(?::(.+))?$/.exec(spec)
  const file = builtin ? builtinScenarioFile(root) : spec
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read --scenario '${file}': ${error.code ?? error.message}`, ExitCode.InputFile)
  })
  let scenarios = parseScenarios(text, file)
  for (const s of scenarios) {
    if (s.payloadFile === undefined) continue
    const path = resolve(dirname(file), s.payloadFile)
    s.payload = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`${file}: scenario '${s.name}': key 'payload-file': cannot read '${path}': ${error.code ?? error.message}`, ExitCode.InputFile)
    })
  }
  if (builtin?.[1]) {
    const wanted = builtin[1].split(',')
    const unknown = wanted.filter((n) => !scenarios.some((s) => s.name === n))
    if (unknown.length) {
      throw new CliError(`--scenario: no built-in scenario '${unknown[0]}' (${scenarios.map((s) => s.name).join(', ')})`, ExitCode.Usage)
    }
    scenarios = wanted.map((n) => scenarios.find((s) => s.name === n)!)
  }
  return {file, scenarios}
}

/** The scenarios of a file's text (JSON, or YAML when it is not JSON). Throws CliError(10). */
export function parseScenarios(text: string, file: string): Scenario[] {
  const bad = (message: string) => new CliError(`${file}: ${message}`, ExitCode.InputFile)
  let doc: unknown
  try {
    doc = /^\s*[[{]/.test(text) && file.endsWith('.json') ? JSON.parse(text) : parseYaml(text, {uniqueKeys: true})
  } catch (error) {
    throw bad(`not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0].replace(/:$/, '')}`)
  }
  const list = isObject(doc) && 'scenarios' in doc ? doc.scenarios : doc
  if (!Array.isArray(list) || list.length === 0) throw bad('expected a non-empty list of scenarios (or an object with one under "scenarios")')
  const names = new Set<string>()
  return list.map((entry, i) => {
    if (!isObject(entry)) throw bad(`scenario ${i + 1}: expected an object with a name and flags`)
    const name = entry.name
    if (typeof name !== 'string' || !/^[\w.-]+$/.test(name)) throw bad(`scenario ${i + 1}: key 'name': expected a name of letters, digits, '.', '_' or '-'`)
    if (names.has(name)) throw bad(`scenario '${name}': the name is used twice`)
    names.add(name)
    const flags: Record<string, unknown> = {}
    let payloadFile: string | undefined
    for (const [given, value] of Object.entries(entry)) {
      if (given === 'name') continue
      if (given === 'payload-file') {
        if (typeof value !== 'string' || value === '') throw bad(`scenario '${name}': key 'payload-file': ${JSON.stringify(value)} is not a file name`)
        if ('size' in entry) throw bad(`scenario '${name}': key 'payload-file': not with 'size' (the file's length is the size)`)
        payloadFile = value
        continue
      }
      const key = ALIASES[given] ?? given
      const kind = KEYS[key]
      if (!kind) throw bad(`scenario '${name}': unknown key '${given}' (name, payload-file, ${[...Object.keys(ALIASES), ...Object.keys(KEYS)].join(', ')})`)
      if (key in flags) throw bad(`scenario '${name}': key '${given}': set twice (${Object.entries(ALIASES).find(([, k]) => k === key)?.join(' and ')})`)
      try {
        const read = readValue(kind, value)
        flags[key] = key === 'session-expiry-interval' ? String(read) : read
      } catch (error) {
        throw bad(`scenario '${name}': key '${given}': ${(error as Error).message.replace(/^-D: /, '')}`)
      }
    }
    return {name, flags: flags as Partial<BenchFlagValues>, payloadFile}
  })
}

function readValue(kind: Kind, v: unknown): unknown {
  const text = typeof v === 'number' ? String(v) : v
  switch (kind) {
    case 'count':
    case 'int': {
      const n = typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v
      if (typeof n !== 'number' || !Number.isInteger(n) || n < (kind === 'count' ? 1 : 0)) {
        throw new TypeError(`${JSON.stringify(v)} is not ${kind === 'count' ? 'a whole number of 1 or more' : 'a whole number of 0 or more'}`)
      }
      return n
    }
    case 'qos':
      if (v !== 0 && v !== 1 && v !== 2) throw new TypeError(`${JSON.stringify(v)} is not 0, 1 or 2`)
      return v
    case 'size': return parseSize(str(text))
    case 'quantity': return parseQuantity(str(text))
    case 'duration': return parseDuration(str(text))
    case 'bool':
      if (typeof v !== 'boolean') throw new TypeError(`${JSON.stringify(v)} is not true or false`)
      return v
    case 'topic':
      if (typeof v !== 'string' || v === '') throw new TypeError(`${JSON.stringify(v)} is not a topic`)
      return v
    case 'topics': {
      const list = typeof v === 'string' ? [v] : v
      if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== 'string' || t === '')) throw new TypeError(`${JSON.stringify(v)} is not a topic filter or a list of them`)
      return list
    }
    case 'version':
      if (!VERSIONS.has(str(text))) throw new TypeError(`${JSON.stringify(v)} is not 5, 311 or 31`)
      return str(text)
    case 'properties': {
      // As -D takes them: "COMMAND NAME VALUE" strings (or [COMMAND, NAME, VALUE] lists).
      const list = typeof v === 'string' ? [v] : v
      if (!Array.isArray(list)) throw new TypeError('expected a list of "COMMAND NAME VALUE" strings, as -D takes them')
      const tokens = list.flatMap((p) => {
        if (typeof p === 'string') return p.trim().split(/\s+/)
        if (Array.isArray(p) && p.every((x) => typeof x === 'string' || typeof x === 'number')) return p.map(String)
        throw new TypeError(`${JSON.stringify(p)} is not "COMMAND NAME VALUE"`)
      })
      const props = parseProperties(tokens)
      if (Object.entries(props).some(([k, set]) => k !== 'connect' && set)) throw new TypeError('bench takes connect properties only (connect NAME VALUE)')
      return tokens
    }
  }
}

function str(v: unknown): string {
  if (typeof v !== 'string') throw new TypeError(`${JSON.stringify(v)} is not a string or number`)
  return v
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
