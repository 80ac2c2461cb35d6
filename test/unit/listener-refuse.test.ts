import assert from 'node:assert/strict'
import {test} from 'node:test'
import {refuseConnection} from '../../src/broker/listeners/refuse.js'
import {duplexPair} from '../helpers/duplex-pair.js'
import {f, props, s} from '../protocol/strict-peer/table.js'

// A connection refused before it reaches the engine (too many connections, a certificate without a
// name) follows the same policy as the engine's refusals (README, strict protocol handling).

async function answer(connect: string): Promise<string> {
  const [client, server] = duplexPair()
  refuseConnection(server, {reasonCode: 0x97, reason: 'too many connections', v3ReturnCode: 3})
  const chunks: Buffer[] = []
  client.on('data', (c: Buffer) => chunks.push(c))
  const ended = new Promise((resolve) => client.on('end', resolve))
  client.write(Buffer.from(connect.replace(/\s+/g, ''), 'hex'))
  await ended
  client.destroy()
  return Buffer.concat(chunks).toString('hex')
}

const v5 = (p: string) => f(0x10, s('MQTT'), '05', '02', '0000', props(p), s('c'))

test('v5: CONNACK with the reason code and a reason string', async () => {
  assert.match(await answer(v5('')), /^20..0097..1f0014/)
})

test('v5 with Request Problem Information 0: no reason string [MQTT-3.1.2-29]', async () => {
  assert.equal(await answer(v5('1700')), '2003009700')
})

test('v5 with a Maximum Packet Size the reason string would exceed: left out [MQTT-3.1.2-24]', async () => {
  assert.equal(await answer(v5('2700000010')), '2003009700')
})

test('v5 with a Maximum Packet Size no CONNACK fits: closed without one', async () => {
  assert.equal(await answer(v5('2700000004')), '')
})

test('v3.1.1: the return code', async () => {
  assert.equal(await answer(f(0x10, s('MQTT'), '04', '02', '0000', s('c'))), '20020003')
})
