import assert from 'node:assert/strict'
import {test} from 'node:test'
import {remoteHost} from '../../src/broker/remote-host.js'

test('remoteHost: the host of a listener address, so that one machine counts once', () => {
  for (const [address, host] of [
    ['10.0.0.7:51234', '10.0.0.7'],
    ['[::1]:51234', '::1'],
    ['[2001:db8::7]:1', '2001:db8::7'],
    ['::ffff:10.0.0.7', '::ffff:10.0.0.7'], // a bare IPv6 address: nothing to strip
    ['test', 'test'],
    ['host:notaport', 'host:notaport'],
    [undefined, ''],
  ] as const) assert.equal(remoteHost(address), host, String(address))
})
