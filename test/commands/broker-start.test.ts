import assert from 'node:assert/strict'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'
import mqtt from 'mqtt'
import {runMidge} from '../helpers/cli.js'
import {startMidgeBroker} from '../helpers/midge-broker.js'

const dir = mkdtempSync(join(tmpdir(), 'midge-start-'))
after(() => rmSync(dir, {recursive: true, force: true}))

test('--json prints one listening object; --ready-file holds the same JSON; SIGINT exits 0 and tells v5 clients 0x8B', async () => {
  const readyFile = join(dir, 'ready.json')
  const broker = await startMidgeBroker(['--ready-file', readyFile])
  const ready = JSON.parse(readFileSync(readyFile, 'utf8'))
  assert.deepEqual(ready, {event: 'listening', protocol: 'mqtt', host: '127.0.0.1', port: broker.port, url: `mqtt://127.0.0.1:${broker.port}`})
  const client = await mqtt.connectAsync(broker.url, {protocolVersion: 5, clientId: 'watcher', reconnectPeriod: 0})
  const disconnect = new Promise<any[]>((resolve) => client.once('disconnect', (...args) => resolve(args)))
  const result = await broker.stop('SIGINT')
  const [packet] = await disconnect
  assert.equal(packet.reasonCode, 0x8b)
  assert.equal(result.code, 0)
  assert.equal(result.stdout.trim(), JSON.stringify(ready))
  // logs are JSON lines on stderr (not a TTY), with the client id and address of the connection
  const logs = result.stderr.trim().split('\n').map((l) => JSON.parse(l))
  const connected = logs.find((l) => l.msg === 'client connected')
  assert.equal(connected.clientId, 'watcher')
  assert.match(connected.address, /^127\.0\.0\.1:\d+$/)
  client.end(true)
})

test('plain output says where it listens; SIGTERM exits 0', async () => {
  const broker = await startMidgeBroker()
  const result = await broker.stop('SIGTERM')
  assert.equal(result.code, 0)
  assert.equal(result.signal, null)
})

test('human output: "listening on mqtt://HOST:PORT"', async () => {
  const child = (await import('../helpers/cli.js')).spawnMidge(['broker', 'start', '--port', '0'])
  const [line] = await once(child.stdout!, 'data')
  assert.match(String(line), /^listening on mqtt:\/\/127\.0\.0\.1:\d+\n$/)
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})

test('a port already in use: one line on stderr, exit 17', async () => {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const {port} = server.address() as {port: number}
  const r = await runMidge(['broker', 'start', '--port', String(port)])
  server.close()
  assert.equal(r.code, 17)
  assert.equal(r.stderr, `midge broker start: port ${port} on 127.0.0.1 is already in use\n`)
  assert.equal(r.stdout, '')
})

test('secure by default: a non-loopback address without authentication is refused (exit 17)', async () => {
  const r = await runMidge(['broker', 'start', '--host', '0.0.0.0', '--port', '0'])
  assert.equal(r.code, 17)
  assert.match(r.stderr, /^midge broker start: refusing to listen on 0\.0\.0\.0 without authentication.*--allow-anonymous/)
  assert.equal(r.stderr.split('\n').length, 2)
})

test('--allow-anonymous lets it bind to every address', async () => {
  const broker = await startMidgeBroker(['--host', '0.0.0.0', '--allow-anonymous'])
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {reconnectPeriod: 0})
  assert.equal(client.connected, true)
  await client.endAsync()
  assert.equal((await broker.stop()).code, 0)
})

test('bad usage exits 2 with one line', async () => {
  for (const args of [['--bogus'], ['--port', '99999'], ['--max-qos', '3'], ['--log-level', 'loud']]) {
    const r = await runMidge(['broker', 'start', ...args])
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }
})

test('limits given as flags are announced to v5 clients in CONNACK and enforced', async () => {
  const broker = await startMidgeBroker(['--max-qos', '1', '--no-retain-available', '--receive-maximum', '5', '--topic-alias-maximum', '3'])
  const client = await mqtt.connectAsync(broker.url, {protocolVersion: 5, reconnectPeriod: 0})
  const props = (client as unknown as {connackPacket?: {properties?: Record<string, unknown>}}).connackPacket?.properties ?? {}
  assert.equal(props.maximumQoS, 1)
  assert.equal(props.retainAvailable, false)
  assert.equal(props.receiveMaximum, 5)
  assert.equal(props.topicAliasMaximum, 3)
  await client.endAsync(true)
  await broker.stop()
})

test('MIDGE_LOG_LEVEL in the environment sets the log level', async () => {
  const broker = await startMidgeBroker([], {MIDGE_LOG_LEVEL: 'silent'})
  const r = await broker.stop()
  assert.equal(r.stderr, '')
})
