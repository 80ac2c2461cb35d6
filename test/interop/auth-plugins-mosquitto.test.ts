// Debian's real mosquitto_pub and mosquitto_sub (v3.1.1 and v5) log in to `midge broker start` through
// the HTTP backend (a Node http server started here) and the JWT backend (tokens made with jose), and
// are refused with Mosquitto's own exit codes and messages when the backend says no.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, test} from 'node:test'
import {SignJWT} from 'jose'
import {collect, type RunResult} from '../helpers/cli.js'
import {startMidgeBroker, type MidgeBroker} from '../helpers/midge-broker.js'

const SECRET = 'interop-secret-of-at-least-thirty-two-bytes'

function client(broker: MidgeBroker, command: string, args: string[]): Promise<RunResult> {
  return collect(spawn(command, ['-h', '127.0.0.1', '-p', String(broker.port), ...args]), 20_000)
}

/** Publishes a retained message, then reads it back with mosquitto_sub: a round trip with no timing. */
async function roundTrip(broker: MidgeBroker, version: string, login: string[], topic: string): Promise<void> {
  const pub = await client(broker, 'mosquitto_pub', ['-V', version, ...login, '-t', topic, '-m', `hello ${version}`, '-r', '-q', '1'])
  assert.equal(pub.code, 0, pub.stderr)
  const sub = await client(broker, 'mosquitto_sub', ['-V', version, ...login, '-t', topic, '-C', '1', '-W', '15'])
  assert.equal(sub.code, 0, sub.stderr)
  assert.equal(sub.stdout, `hello ${version}\n`)
}

async function refused(broker: MidgeBroker, version: string, login: string[]): Promise<void> {
  const r = await client(broker, 'mosquitto_pub', ['-V', version, ...login, '-t', 't', '-m', 'x'])
  assert.equal(r.code, version === 'mqttv5' ? 0x86 : 4, r.stderr)
  assert.match(r.stderr, /bad user name or password/i)
}

describe('mosquitto clients through the HTTP backend', () => {
  let broker: MidgeBroker
  const server = createServer((req, res) => {
    let text = ''
    req.on('data', (d: Buffer) => { text += d }).on('end', () => {
      const b = JSON.parse(text) as {action: string; username: string; password?: string; topic?: string}
      const ok = b.action === 'connect' ? b.username === 'alice' && b.password === 'wonderland' : b.topic?.startsWith('alice/') === true
      res.writeHead(ok ? 200 : 403).end()
    })
  })

  before(async () => {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    broker = await startMidgeBroker(['--auth-http', `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth`])
  })
  after(async () => {
    await broker?.stop()
    server.closeAllConnections()
    server.close()
  })

  for (const version of ['mqttv311', 'mqttv5']) {
    test(`${version}: mosquitto_pub and mosquitto_sub log in and round-trip; a wrong password is refused`, async () => {
      await roundTrip(broker, version, ['-u', 'alice', '-P', 'wonderland'], `alice/${version}`)
      await refused(broker, version, ['-u', 'alice', '-P', 'looking-glass'])
    })
  }

  test('mqttv5: a publish outside the allowed topics is refused by the service (mosquitto_pub -q 1)', async () => {
    const r = await client(broker, 'mosquitto_pub', ['-V', 'mqttv5', '-u', 'alice', '-P', 'wonderland', '-t', 'bob/x', '-m', 'x', '-q', '1'])
    assert.match(r.stderr, /not authori[sz]ed/i)
  })
})

describe('mosquitto clients through the JWT backend', () => {
  let broker: MidgeBroker
  const sign = (exp: string, audience?: string) => {
    const jwt = new SignJWT({sub: 'd1', acl: {all: ['devices/%u/#']}}).setProtectedHeader({alg: 'HS256'}).setExpirationTime(exp)
    return (audience === undefined ? jwt : jwt.setAudience(audience)).sign(new TextEncoder().encode(SECRET))
  }

  before(async () => {
    broker = await startMidgeBroker(['--auth-jwt-audience', 'mqtt'], {MIDGE_AUTH_JWT_SECRET: SECRET})
  })
  after(() => broker?.stop())

  for (const version of ['mqttv311', 'mqttv5']) {
    test(`${version}: a token as the password logs in and round-trips; an expired one is refused`, async () => {
      await roundTrip(broker, version, ['-u', 'd1', '-P', await sign('1h', 'mqtt')], `devices/d1/${version}`)
      await refused(broker, version, ['-u', 'd1', '-P', await sign('-1h', 'mqtt')])
      await refused(broker, version, ['-u', 'd1', '-P', await sign('1h')]) // no audience
    })
  }
})
