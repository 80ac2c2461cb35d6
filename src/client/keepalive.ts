// The client's side of the keepalive: a tick every half keepalive sends PINGREQ when we sent nothing
// since the last tick; two ticks without a packet from the broker mean the link is dead.
import {ConnectionLostError} from './errors.js'
import type {PacketWriter} from './packet-writer.js'

export class Keepalive {
  private unansweredTicks = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly writer: PacketWriter, private readonly onDead: (error: Error) => void) {}

  start(seconds: number): void {
    if (seconds > 0) {
      this.timer = setInterval(this.tick, seconds * 500)
      this.timer.unref()
    }
  }

  /** A packet came from the broker: the link is alive. */
  heard(): void {
    this.unansweredTicks = 0
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private readonly tick = () => {
    if (this.unansweredTicks >= 2) {
      this.onDead(new ConnectionLostError('connection lost: no answer to PINGREQ within the keepalive'))
      return
    }
    if (this.unansweredTicks > 0 || !this.writer.sentSinceTick) {
      if (this.unansweredTicks === 0) this.writer.send({cmd: 'pingreq'})
      this.unansweredTicks++
    }
    this.writer.sentSinceTick = false
  }
}
