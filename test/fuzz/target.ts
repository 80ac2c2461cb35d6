// The system under test and its health checks: the broker process, the subscribers around it, and
// what must hold after every batch.
import {setTimeout as sleep} from 'node:timers/promises'
import {BrokerFiles, BrokerProcess, type BrokerSetup} from './broker-process.js'
import {Observers, retainedSubscribe, roundTrip} from './observers.js'

export interface Failure {
  /** crash | round-trip | subscriber | retained | fd-leak | memory | engine-error */
  kind: string
  detail: string
}

export interface Health {
  rss: number
  fds: number
}

/** Descriptors above the level after start-up that still count as "back to the level". */
const FD_SLACK = 16

export class Target {
  broker!: BrokerProcess
  observers!: Observers
  /** Level right after start-up, with the subscribers connected. */
  baseline: Health = {rss: 0, fds: 0}
  /** Restarts after a crash. */
  restarts = 0
  retainedSeen = 0
  /** Messages the subscribers of replaced Observers had received. */
  private receivedBefore = 0

  private memoryLimit = 0

  private constructor(readonly files: BrokerFiles) {}

  /** memoryAllowance: how far above its level after start-up the broker's RSS may be after a batch. */
  static async start(setup: BrokerSetup, memoryAllowance = 256 * 1024 * 1024): Promise<Target> {
    const t = new Target(await BrokerFiles.create(setup))
    await t.boot()
    t.baseline = t.health()
    t.memoryLimit = t.baseline.rss + memoryAllowance
    return t
  }

  private async boot(): Promise<void> {
    this.broker = await BrokerProcess.start(this.files)
    this.observers = new Observers(this.broker.port, this.files.credentials)
    await this.observers.start()
    await roundTrip(this.broker.port, this.files.credentials)
  }

  get port(): number { return this.broker.port }

  /** Messages delivered to the subscribers so far. */
  received(): number { return this.receivedBefore + this.observers.received }

  health(): Health {
    return this.broker.alive ? {rss: this.broker.rss(), fds: this.broker.fds()} : {rss: 0, fds: 0}
  }

  /** Everything that must hold after a batch; an empty list when it all does. */
  async check(): Promise<Failure[]> {
    if (!this.broker.alive) return [this.crash()]
    const failures: Failure[] = []
    try {
      await roundTrip(this.port, this.files.credentials)
    } catch (error) {
      failures.push({kind: 'round-trip', detail: (error as Error).message})
    }
    try {
      this.retainedSeen += await retainedSubscribe(this.port, this.files.credentials)
    } catch (error) {
      failures.push({kind: 'retained', detail: (error as Error).message})
    }
    await this.observers.mosquittoRoundTrip()
    for (const p of this.observers.take()) failures.push({kind: 'subscriber', detail: p})
    const errors = this.broker.errors.splice(0)
    if (errors.length > 0) failures.push({kind: 'engine-error', detail: errors.slice(0, 20).join('\n')})
    // every fuzzing connection is closed on our side: the broker's descriptors must come back
    let fds = this.broker.fds()
    for (let i = 0; i < 60 && this.broker.alive && fds > this.baseline.fds + FD_SLACK; i++) {
      await sleep(250)
      fds = this.broker.fds()
    }
    // a broker that died meanwhile: the crash is the finding, the rest are its consequences
    if (!this.broker.alive) return [this.crash()]
    if (fds > this.baseline.fds + FD_SLACK) failures.push({kind: 'fd-leak', detail: `${fds} open descriptors after the batch, ${this.baseline.fds} at start`})
    const rss = this.broker.rss()
    if (rss > this.memoryLimit) failures.push({kind: 'memory', detail: `RSS ${(rss / 1048576).toFixed(0)} MB after the batch (limit ${(this.memoryLimit / 1048576).toFixed(0)} MB)`})
    return failures
  }

  private crash(): Failure {
    const {code, signal} = this.broker.exited ?? {code: this.broker.child.exitCode, signal: this.broker.child.signalCode}
    return {kind: 'crash', detail: `broker exited (code ${code}, signal ${signal})\n${this.broker.stderrTail.slice(-8000)}`}
  }

  /** Brings back what a failure broke: the broker (same files, so persistence carries over) and the subscribers. */
  async repair(): Promise<void> {
    this.receivedBefore += this.observers.received
    if (!this.broker.alive) {
      await this.observers.stop()
      await this.broker.stop()
      this.restarts++
      await this.boot()
    } else if (this.observers.broken) {
      await this.observers.stop()
      this.observers = new Observers(this.broker.port, this.files.credentials)
      await this.observers.start()
    }
  }

  /**
   * Stops the broker (SIGTERM) and starts it again on the same files, so that what --persistence
   * stored is restored (a poisoned retained message or session would show in the next checks).
   * A broker that does not come back is a failure.
   */
  async restart(): Promise<Failure[]> {
    this.receivedBefore += this.observers.received
    await this.observers.stop()
    await this.broker.stop()
    const {code, signal} = this.broker.exited ?? {code: null, signal: null}
    if (code !== 0) return [{kind: 'restart', detail: `broker exited ${code} (${signal}) on SIGTERM\n${this.broker.stderrTail.slice(-8000)}`}]
    try {
      await this.boot()
    } catch (error) {
      return [{kind: 'restart', detail: `broker did not come back: ${(error as Error).message}`}]
    }
    return []
  }

  async stop(): Promise<void> {
    await this.observers.stop()
    await this.broker.stop()
    this.files.remove()
  }
}
