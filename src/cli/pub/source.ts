// What `pub` sends: one payload (-m, -f, -s, -n; repeated with --repeat), stdin lines (-l), or NDJSON
// messages (--stdin-json). Files and -s are read before connecting, so their errors come first.
import {readFile} from 'node:fs/promises'
import {shown, validateTopicName} from '../../client/index.js'
import type {PublishProperties, QoS} from '../../codec/index.js'
import {CliError, ExitCode} from '../common/exit-codes.js'
import {fromJsonLine} from '../common/format/ndjson.js'
import {readAll, readLines} from './line-reader.js'

export interface OutMessage { topic: string; payload: Buffer; qos: QoS; retain: boolean; properties?: PublishProperties }

export interface SourceFlags {
  message?: string; file?: string; 'stdin-file': boolean; 'stdin-line': boolean; 'null-message': boolean
  'stdin-json': boolean; qos: number; retain?: boolean; repeat: number; 'repeat-delay': number
}

export function checkTopic(topic: string): string {
  const invalid = validateTopicName(topic)
  if (invalid) throw new CliError(`invalid topic ${shown(topic)}: ${invalid}`, ExitCode.Usage)
  return topic
}

export async function messageSource(f: SourceFlags, topic: string | undefined, properties: PublishProperties | undefined,
  stdin: NodeJS.ReadableStream = process.stdin): Promise<AsyncIterable<OutMessage>> {
  const qos = f.qos as QoS
  const retain = f.retain ?? false
  if (f['stdin-json']) return jsonMessages(stdin, {topic, qos, retain}, properties)
  if (topic === undefined) throw new CliError('a topic is needed (-t or a -L URL with a path)', ExitCode.Usage)
  checkTopic(topic)
  if (f['stdin-line']) return lineMessages(stdin, {topic, qos, retain, properties})
  let payload: Buffer
  if (f.message !== undefined) payload = Buffer.from(f.message)
  else if (f.file !== undefined) payload = await readInputFile(f.file)
  else if (f['stdin-file']) payload = await readAll(stdin as AsyncIterable<Buffer>)
  else if (f['null-message']) payload = Buffer.alloc(0)
  else throw new CliError('nothing to publish: give one of -m, -f, -s, -l, -n or --stdin-json', ExitCode.Usage)
  return repeated({topic, payload, qos, retain, properties}, f.repeat, f['repeat-delay'])
}

async function readInputFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message
    throw new CliError(`cannot read '${path}': ${why}`, ExitCode.InputFile)
  }
}

async function* repeated(m: OutMessage, times: number, delaySeconds: number): AsyncGenerator<OutMessage> {
  for (let i = 0; i < times; i++) {
    if (i > 0 && delaySeconds > 0) await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000))
    yield m
  }
}

async function* lineMessages(stdin: NodeJS.ReadableStream, base: Omit<OutMessage, 'payload'>): AsyncGenerator<OutMessage> {
  for await (const payload of readLines(stdin as AsyncIterable<Buffer>)) yield {...base, payload}
}

async function* jsonMessages(stdin: NodeJS.ReadableStream, defaults: {topic?: string; qos: QoS; retain: boolean},
  properties: PublishProperties | undefined): AsyncGenerator<OutMessage> {
  let n = 0
  for await (const line of readLines(stdin as AsyncIterable<Buffer>)) {
    n++
    const text = line.toString('utf8')
    if (text.trim() === '') continue
    let m
    try {
      m = fromJsonLine(text, defaults)
      checkTopic(m.topic)
    } catch (error) {
      throw new CliError(`stdin line ${n}: ${(error as Error).message}`, ExitCode.Usage)
    }
    yield {...m, properties: properties || m.properties ? {...properties, ...m.properties} : undefined}
  }
}
