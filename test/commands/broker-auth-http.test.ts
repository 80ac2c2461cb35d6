// `midge broker start --auth-http URL`: the real binary asks an HTTP service (Node's http server, started
// here on a free port) about logins, publishes and subscriptions; mqtt.js is the client. Allow, deny,
// a slow service (time-out refuses; other clients carry on meanwhile), a service that is down, and
// the result cache.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import type mqtt from 'mqtt'
import type {IClientOptions} from 'mqtt'
import {watchLog} from '../helpers/broker-log.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'
import {connected as connectedAs, login as loginAs} from '../helpers/mqtt-login.js'
import {freePort} from '../helpers/mosquitto.js'

const login = (broker: MidgeBroker, options: IClientOptions) => loginAs(broker, {protocolVersion: 5, ...options})
const connected = (broker: MidgeBroker, options: IClientOptions) => connectedAs(broker, {protocolVersion: 5, ...options})

const dir = mkdtempSync(join(tmpdir(), 'midge-auth-http-'))
after(() => rmSync(dir, {recursive: true, force: true}))

type Body = {action: string; clientid: string; username: string | null; password?: string | null; peer: string | null; protocol: number; topic?: string; qos?: number; retain?: boolean}
type Handler = (body: Body, res: ServerResponse) => void

/** An auth service: every request's body is recorded, then answered by `handler`. */
async function authService(handler: Handler) {
  const requests: Body[] = []
  const listeners: Array<(b: Body) => void> = []
  const server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.setEncoding('utf8').on('data', (d: string) => { text += d }).on('end', () => {
      const body = JSON.parse(text) as Body
      requests.push(body)
      for (const l of listeners) l(body)
      handler(body, res)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  after(() => { server.closeAllConnections(); server.close() })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`,
    requests,
    /** Resolves when a request matching `pick` arrives. */
    received: (pick: (b: Body) => boolean) => new Promise<Body>((resolve) => listeners.push((b) => { if (pick(b)) resolve(b) })),
  }
}

const answer = (res: ServerResponse, status: number, json?: unknown) => {
  res.writeHead(status, {'content-type': 'application/json'})
  res.end(json === undefined ? '' : JSON.stringify(json))
}

/** alice/wonderland may connect and use alice/#; bob/builder may connect and read (not write) public/#. */
const rules: Handler = (b, res) => {
  if (b.action === 'connect') return answer(res, (b.username === 'alice' && b.password === 'wonderland') || (b.username === 'bob' && b.password === 'builder') ? 200 : 401)
  if (b.topic?.startsWith(`${b.username}/`)) return answer(res, 200, {result: 'allow'})
  if (b.action === 'subscribe' && b.topic === 'public/#') return answer(res, 204)
  answer(res, 200, {result: 'deny'})
}



async function start(args: string[]): Promise<MidgeBroker> {
  const broker = await startMidgeBroker(args)
  after(() => broker.stop())
  return broker
}

/** The PUBACK reason code of a QoS 1 publish (mqtt.js rejects a refused one, with the code). */
function publishCode(client: mqtt.MqttClient, topic: string): Promise<number> {
  return client.publishAsync(topic, 'x', {qos: 1}).then((p) => (p as {reasonCode?: number} | undefined)?.reasonCode ?? 0, (e: {code?: number}) => e.code ?? -1)
}

describe('HTTP authentication', () => {
  test('the service decides logins, publishes and subscriptions, and is told who asks', async () => {
    const service = await authService(rules)
    const broker = await start(['--auth-http', service.url])
    const alice = await connected(broker, {clientId: 'alice-1', username: 'alice', password: 'wonderland'})
    assert.equal(await login(broker, {clientId: 'x', username: 'alice', password: 'wrong'}), 0x86)
    assert.equal(await login(broker, {clientId: 'y', username: 'mallory', password: 'wonderland'}), 0x86)
    const connect = service.requests.find((r) => r.clientid === 'alice-1')!
    assert.deepEqual(connect, {action: 'connect', clientid: 'alice-1', username: 'alice', password: 'wonderland', peer: '127.0.0.1', protocol: 5, cert_subject: null})

    const granted = await alice.subscribeAsync(['alice/#', 'public/#', 'bob/#'], {qos: 1}).catch((e: {packet?: {granted?: number[]}}) => e.packet?.granted)
    const codes = Array.isArray(granted) ? granted.map((g) => (typeof g === 'number' ? g : g.qos)) : granted
    assert.deepEqual(codes, [1, 1, 0x87])
    assert.equal(await publishCode(alice, 'alice/room'), 0)
    assert.equal(await publishCode(alice, 'public/news'), 0x87)
    const publish = service.requests.find((r) => r.action === 'publish' && r.topic === 'alice/room')!
    assert.deepEqual([publish.username, publish.qos, publish.retain, publish.password], ['alice', 1, false, undefined])
  })

  test('a slow service holds only the client it is asked about; others log in, subscribe and publish meanwhile', async () => {
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    const service = await authService((b, res) => {
      if (b.username === 'slow') void released.then(() => answer(res, 200))
      else rules(b, res)
    })
    const broker = await start(['--auth-http', service.url, '--plugin-timeout', '60000'])
    const asked = service.received((b) => b.username === 'slow')
    let slowSettled = false
    const slow = login(broker, {clientId: 'slow-1', username: 'slow', password: 'p'}).finally(() => { slowSettled = true })
    await asked
    const alice = await connected(broker, {clientId: 'alice-2', username: 'alice', password: 'wonderland'})
    await alice.subscribeAsync('alice/echo', {qos: 1})
    const message = new Promise<Buffer>((resolve) => alice.once('message', (_t, payload) => resolve(payload)))
    await alice.publishAsync('alice/echo', 'while slow waits', {qos: 1})
    assert.equal(String(await message), 'while slow waits')
    assert.equal(slowSettled, false, 'the slow login is still waiting for the service')
    release()
    assert.equal(typeof (await slow), 'object', 'accepted once the service answered')
  })

  test('a service that does not answer in time refuses the client (0x88) with a log line', async () => {
    const service = await authService((b, res) => { if (b.username !== 'slow') rules(b, res) }) // never answers "slow"
    const broker = await start(['--auth-http', service.url, '--plugin-timeout', '300'])
    const log = watchLog(broker)
    assert.equal(await login(broker, {clientId: 's', username: 'slow', password: 'p'}), 0x88)
    const line = await log.line(/plugin midge:http: authenticate failed/)
    assert.equal(line.plugin, 'midge:http')
    assert.match(String(line.msg), /no answer/)
    await connected(broker, {clientId: 'a', username: 'alice', password: 'wonderland'})
  })

  test('a service that is down refuses every client (0x88), logged once with the reason', async () => {
    const port = await freePort()
    const broker = await start(['--auth-http', `http://127.0.0.1:${port}/auth`])
    const log = watchLog(broker)
    assert.equal(await login(broker, {clientId: 'a', username: 'alice', password: 'wonderland'}), 0x88)
    assert.equal(await login(broker, {clientId: 'b', username: 'bob', password: 'builder'}), 0x88)
    const line = await log.line(/authenticate failed/)
    assert.match(String(line.msg), /plugin midge:http: authenticate failed: http:\/\/127\.0\.0\.1:\d+: connection refused \(is the service running\?\)/)
    assert.equal(log.lines.filter((l) => /authenticate failed/.test(String(l.msg))).length, 1)
  })

  test('answers are cached: the same login and topic again ask nothing; another password asks again', async () => {
    const service = await authService(rules)
    const broker = await start(['--auth-http', service.url])
    const count = (pick: (b: Body) => boolean) => service.requests.filter(pick).length
    for (let i = 0; i < 2; i++) {
      const c = await connected(broker, {clientId: 'cached', username: 'alice', password: 'wonderland'})
      assert.equal(await publishCode(c, 'alice/x'), 0)
      await c.endAsync()
    }
    assert.equal(await login(broker, {clientId: 'cached', username: 'alice', password: 'other'}), 0x86)
    assert.equal(count((b) => b.action === 'connect'), 2, 'one request per distinct login')
    assert.equal(count((b) => b.action === 'publish'), 1, 'one request per distinct publish')
  })

  test('plugin midge:http in a configuration file, with plugin_opt_ lines: no cache, another ACL URL', async () => {
    const service = await authService(rules)
    const acl = await authService((_b, res) => answer(res, 200, {ok: false}))
    const port = await freePort()
    const conf = join(dir, 'http.conf')
    writeFileSync(conf, `listener ${port} 127.0.0.1\nplugin midge:http\nplugin_opt_url ${service.url}\nplugin_opt_acl_url ${acl.url}\nplugin_opt_cache_ttl 0\n`)
    const broker = await start(['-c', conf])
    for (let i = 0; i < 2; i++) {
      const c = await connected(broker, {clientId: 'nocache', username: 'bob', password: 'builder'})
      assert.equal(await publishCode(c, 'bob/x'), 0x87, 'the ACL service says no')
      await c.endAsync()
    }
    assert.equal(service.requests.length, 2)
    assert.deepEqual(acl.requests.map((r) => r.action), ['publish', 'publish'])
  })
})
