// --proxy socks5h://...: pub and sub reach the broker through a SOCKS5 proxy, a small one written here
// (RFC 1928, with RFC 1929 user/password) that records what it was asked and connects for real.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {createConnection, createServer, type AddressInfo, type Server, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {connect, type Message, type MqttClient} from '../../src/client/index.js'
import {createBroker, type Broker} from '../../src/index.js'
import {runMidge} from '../helpers/cli.js'
import {freePort} from '../helpers/mosquitto.js'

interface Request { host: string; port: number; user?: string; password?: string }

/** A SOCKS5 proxy: no authentication, or user/password when `credentials` is given. */
async function socks5(credentials?: {user: string; password: string}) {
  const requests: Request[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    client.on('error', () => undefined)
    let buffered = Buffer.alloc(0)
    let wake: (() => void) | undefined
    client.on('data', (d: Buffer) => { buffered = Buffer.concat([buffered, d]); wake?.() })
    const read = async (n: number): Promise<Buffer> => {
      while (buffered.length < n) await new Promise<void>((r) => { wake = r })
      const out = buffered.subarray(0, n)
      buffered = buffered.subarray(n)
      return out
    }
    void (async () => {
      const [, methods] = await read(2)
      await read(methods)
      const request: Request = {host: '', port: 0}
      if (credentials) {
        client.write(Buffer.from([5, 2]))
        const [, ulen] = await read(2)
        request.user = (await read(ulen)).toString()
        const [plen] = await read(1)
        request.password = (await read(plen)).toString()
        const ok = request.user === credentials.user && request.password === credentials.password
        client.write(Buffer.from([1, ok ? 0 : 1]))
        if (!ok) return client.end()
      } else {
        client.write(Buffer.from([5, 0]))
      }
      const [, , , atyp] = await read(4)
      request.host = atyp === 3 ? (await read((await read(1))[0])).toString() : atyp === 1 ? [...await read(4)].join('.') : 'ipv6'
      request.port = (await read(2)).readUInt16BE(0)
      requests.push(request)
      const target = createConnection({host: request.host, port: request.port})
      target.once('connect', () => {
        client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]))
        if (buffered.length > 0) target.write(buffered)
        client.removeAllListeners('data')
        client.pipe(target).pipe(client)
      })
      target.once('error', () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]))) // connection refused
      sockets.add(target)
      target.on('close', () => sockets.delete(target))
    })()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    async close() {
      for (const s of sockets) s.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

describe('--proxy socks5h://', () => {
  let broker: Broker
  let port: number
  let watcher: MqttClient
  const received: Message[] = []
  let open: Awaited<ReturnType<typeof socks5>>
  let locked: Awaited<ReturnType<typeof socks5>>

  before(async () => {
    broker = createBroker()
    port = (await broker.listen({host: '127.0.0.1', port: 0})).port
    watcher = await connect({host: '127.0.0.1', port})
    watcher.onMessage((m) => received.push(m))
    await watcher.subscribe([{topic: 'px/#', qos: 1}])
    open = await socks5()
    locked = await socks5({user: 'alice', password: 's3cret'})
  })
  after(async () => {
    await open.close()
    await locked.close()
    await watcher.disconnect()
    await broker.close()
  })

  it('pub goes through the proxy, which resolves the broker\'s name (socks5h)', async () => {
    const res = await runMidge(['pub', '--proxy', `socks5h://127.0.0.1:${open.port}`, '-h', 'localhost', '-p', String(port), '-t', 'px/a', '-m', 'via socks', '-q', '1'])
    assert.equal(res.code, 0, res.stderr)
    assert.deepEqual(open.requests.at(-1), {host: 'localhost', port})
    await watcher.unsubscribe(['none']) // a round trip: the delivery is behind it
    assert.equal(received.at(-1)?.payload.toString(), 'via socks')
  })

  it('user and password from the URL; sub works the same way', async () => {
    const pub = await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'px/r', '-m', 'retained', '-r'])
    assert.equal(pub.code, 0)
    const res = await runMidge(['sub', '--proxy', `socks5h://alice:s3cret@127.0.0.1:${locked.port}`, '-h', '127.0.0.1', '-p', String(port), '-t', 'px/r', '-C', '1', '-W', '20'])
    assert.equal(res.code, 0, res.stderr)
    assert.equal(res.stdout, 'retained\n')
    assert.deepEqual(locked.requests.at(-1), {host: '127.0.0.1', port, user: 'alice', password: 's3cret'})
    await runMidge(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'px/r', '-n', '-r'])
  })

  it('exit 11 with one line when the proxy cannot reach the broker or refuses us', async () => {
    const closed = await freePort()
    const unreachable = await runMidge(['pub', '--proxy', `socks5h://127.0.0.1:${open.port}`, '-h', '127.0.0.1', '-p', String(closed), '-t', 'px/a', '-m', 'x'])
    assert.equal(unreachable.code, 11, unreachable.stderr)
    assert.match(unreachable.stderr, /^midge pub: cannot connect to 127\.0\.0\.1:\d+: through the proxy 127\.0\.0\.1:\d+: .+\n$/)
    const refused = await runMidge(['pub', '--proxy', `socks5h://alice:wrong@127.0.0.1:${locked.port}`, '-h', '127.0.0.1', '-p', String(port), '-t', 'px/a', '-m', 'x'])
    assert.equal(refused.code, 11, refused.stderr)
  })

  for (const [value, message] of [
    ['not a url', /--proxy: 'not a url' is not a URL/],
    ['http://127.0.0.1:3128', /is not a socks5h:\/\/ URL/],
  ] as const) {
    it(`--proxy ${value}: exit 2 with one line`, async () => {
      const res = await runMidge(['pub', '--proxy', value, '-t', 'px/a', '-m', 'x'])
      assert.equal(res.code, 2, res.stderr)
      assert.match(res.stderr, message)
    })
  }
})
