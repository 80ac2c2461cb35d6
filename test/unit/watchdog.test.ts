import assert from 'node:assert/strict'
import {test} from 'node:test'
import {Watchdog, type Watched} from '../../src/broker/watchdog.js'
import {FakeTimers} from '../helpers/fake-timers.js'

function watched(timers: FakeTimers, limit: number, log: string[], name: string): Watched & {touch(): void} {
  let last = timers.now()
  return {
    deadline: () => last + limit,
    expired: () => { log.push(`${name}@${timers.now()}`) },
    touch: () => { last = timers.now() },
  }
}

test('one timer serves every watched connection, each expiring at its own deadline', () => {
  const timers = new FakeTimers()
  const dog = new Watchdog(timers)
  const log: string[] = []
  const t0 = timers.now()
  const a = watched(timers, 1000, log, 'a')
  const b = watched(timers, 5000, log, 'b')
  dog.watch(b)
  dog.watch(a)
  assert.equal(timers.pendingCount, 1)
  timers.advance(999)
  assert.deepEqual(log, [])
  timers.advance(1)
  assert.deepEqual(log, [`a@${t0 + 1000}`])
  assert.equal(dog.size, 1)
  timers.advance(4000)
  assert.deepEqual(log, [`a@${t0 + 1000}`, `b@${t0 + 5000}`])
  assert.equal(dog.size, 0)
  assert.equal(timers.pendingCount, 0)
})

test('activity moves a deadline later; unwatching the last one stops the timer', () => {
  const timers = new FakeTimers()
  const dog = new Watchdog(timers)
  const log: string[] = []
  const a = watched(timers, 1000, log, 'a')
  dog.watch(a)
  for (let i = 0; i < 5; i++) {
    timers.advance(900)
    a.touch()
  }
  assert.deepEqual(log, [])
  const t = timers.now()
  timers.advance(1000)
  assert.deepEqual(log, [`a@${t + 1000}`])
  const b = watched(timers, 1000, log, 'b')
  dog.watch(b)
  dog.unwatch(b)
  assert.equal(timers.pendingCount, 0)
  timers.advance(5000)
  assert.equal(log.length, 1)
})

test('a deadline earlier than the armed one re-arms the timer for it', () => {
  const timers = new FakeTimers()
  const dog = new Watchdog(timers)
  const log: string[] = []
  const t0 = timers.now()
  dog.watch(watched(timers, 60_000, log, 'slow'))
  dog.watch(watched(timers, 10, log, 'fast'))
  assert.equal(timers.pendingCount, 1)
  timers.advance(10)
  assert.deepEqual(log, [`fast@${t0 + 10}`])
})
