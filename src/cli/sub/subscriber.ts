// The life of one `sub` run: subscribe, check the grants, handle messages (filters, printing, counts,
// assertions) and end on a count, -W, a signal, a lost connection or a failed expectation.
import {ReasonCode, reasonName, type QoS} from '../../codec/index.js'
import {topicMatches, type Message, type MqttClient, type SubscribeRequest} from '../../client/index.js'
import {ExitCode} from '../common/exit-codes.js'
import type {Expectations} from './expectations.js'
import type {Printer} from '../common/format/printer.js'
import type {PropertySet} from '../common/properties.js'
import type {Reconnect} from '../common/reconnect.js'

export interface Outcome { code: number; message?: string }

export interface SubscriberSettings {
  topics: string[]
  unsubscribe: string[]
  qos: QoS
  subscription: Omit<SubscribeRequest, 'topic' | 'qos'>
  subscribeProperties?: PropertySet
  unsubscribeProperties?: PropertySet
  filterOut: string[]
  skipRetained: boolean
  retainedOnly: boolean
  removeRetained: boolean
  /** -C: exit after this many messages. */
  count?: number
  exitAfterSubscribe: boolean
  /** Exit 14 only when every subscription is refused. */
  partialOk: boolean
  timeoutSeconds?: number
  warn: (line: string) => void
  /** --reconnect: a lost connection is replaced (subscriptions made again unless the session resumed). */
  reconnect?: Reconnect
}

export class Subscriber {
  received = 0
  private finished: Outcome | undefined
  private resolve!: (o: Outcome) => void
  private readonly done = new Promise<Outcome>((r) => { this.resolve = r })
  private readonly cleanups: Array<Promise<unknown>> = []

  constructor(public client: MqttClient, private readonly printer: Printer,
    private readonly expect: Expectations, private readonly s: SubscriberSettings) {}

  /** Runs until the end; the caller disconnects afterwards. */
  async run(signal: AbortSignal): Promise<Outcome> {
    this.client.onMessage(this.onMessage)
    const onAbort = () => this.finish(this.ending('', ExitCode.Success))
    signal.addEventListener('abort', onAbort, {once: true})
    const timer = this.s.timeoutSeconds === undefined ? undefined : setTimeout(() => this.finish(this.ending(` within ${this.s.timeoutSeconds}s`, ExitCode.Timeout, 'timed out')), this.s.timeoutSeconds * 1000)
    this.watch(this.client)
    try {
      await this.subscribe().catch((error: Error) => { if (!this.s.reconnect) throw error }) // a loss while subscribing: watch() goes on
      const outcome = await this.done
      await Promise.allSettled(this.cleanups)
      return outcome
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** When `client` goes: the end (ConnectionLost), or with --reconnect a new client, subscribed again. */
  private watch(client: MqttClient): void {
    void client.closed.then(async (e) => {
      if (this.finished) return
      if (!this.s.reconnect) return this.finish({code: ExitCode.ConnectionLost, message: e?.message ?? 'connection closed'})
      let next: MqttClient | undefined
      try {
        next = await this.s.reconnect(e)
      } catch (error) {
        const code = (error as {exitCode?: number}).exitCode ?? ExitCode.ConnectionLost
        return this.finish({code, message: (error as Error).message})
      }
      if (next === undefined || this.finished) return next?.destroy()
      this.client = next
      next.onMessage(this.onMessage)
      this.watch(next)
      if (!next.connack.sessionPresent) await this.subscribe().catch(() => undefined) // lost again: watch() retries
    })
  }

  private async subscribe(): Promise<void> {
    const {topics, qos, subscription} = this.s
    if (topics.length > 0) {
      const requests = topics.map((topic) => ({topic, qos, ...subscription}))
      const {granted, reasonString} = await this.client.subscribe(requests, {properties: this.s.subscribeProperties})
      const refused = granted.map((code, i) => ({code, topic: topics[i]})).filter((g) => g.code >= ReasonCode.UnspecifiedError)
      const words = (g: {code: number; topic: string}) => `subscription to '${g.topic}' refused: ${reasonName(g.code)}${reasonString ? ` (${reasonString})` : ''}`
      if (refused.length === topics.length || (refused.length > 0 && !this.s.partialOk)) {
        return this.finish({code: ExitCode.SubscribeRefused, message: refused.length > 1 ? `all ${refused.length} subscriptions refused: ${reasonName(refused[0].code)}` : words(refused[0])})
      }
      for (const g of refused) this.s.warn(words(g))
    }
    if (this.s.unsubscribe.length > 0) await this.client.unsubscribe(this.s.unsubscribe, {properties: this.s.unsubscribeProperties})
    if (this.s.exitAfterSubscribe || topics.length === 0) this.finish({code: ExitCode.Success})
  }

  private readonly onMessage = (m: Message) => {
    if (this.finished) return
    if (this.s.retainedOnly && !m.retain) return this.finish(this.ending('', ExitCode.Success))
    if (m.retain && this.s.skipRetained) return
    for (const f of this.s.filterOut) if (topicMatches(f, m.topic)) return
    if (this.s.removeRetained && m.retain) this.cleanups.push(this.client.publish(m.topic, Buffer.alloc(0), {qos: 1, retain: true}))
    this.printer.print(m)
    this.received++
    const failure = this.expect.check(m, this.received)
    if (failure) return this.finish({code: ExitCode.AssertionFailed, message: failure})
    const count = this.s.count ?? this.expect.count
    if (count !== undefined && this.received >= count) this.finish({code: ExitCode.Success})
  }

  /** The outcome when the run is cut short: expectations decide, else `code`. */
  private ending(why: string, code: number, message?: string): Outcome {
    if (this.expect.none) return {code: ExitCode.Success}
    const unmet = this.expect.unmet(this.received, why)
    if (unmet) return {code: ExitCode.AssertionFailed, message: unmet}
    return {code, message}
  }

  private finish(outcome: Outcome): void {
    if (this.finished) return
    this.finished = outcome
    this.resolve(outcome)
  }
}
