// Where received messages go: to the handler given to onMessage(), or into the async iterator of
// messages(); until either exists, into a backlog that pauses the socket when it is full.
import type {Duplex} from 'node:stream'
import {MessageQueue} from './message-queue.js'
import type {Message} from './types.js'

export const BACKLOG_LIMIT = 1000

export class Inbox {
  private handler: ((message: Message) => void) | undefined
  private queue: MessageQueue<Message> | undefined
  private backlog: Message[] = []

  constructor(private readonly stream: Duplex) {}

  deliver(message: Message): void {
    if (this.handler) this.handler(message)
    else if (this.queue) this.queue.push(message)
    else if (this.backlog.push(message) === BACKLOG_LIMIT) this.stream.pause()
  }

  onMessage(handler: (message: Message) => void): void {
    this.handler = handler
    const backlog = this.backlog
    this.backlog = []
    for (const m of backlog) handler(m)
    this.stream.resume()
  }

  /** `ended`: given when the connection is already over; the iterator ends as it did, after the backlog. */
  messages(highWater: number, ended?: Promise<Error | undefined>): AsyncIterableIterator<Message> {
    const queue = new MessageQueue<Message>(highWater, (paused) => paused ? this.stream.pause() : this.stream.resume())
    this.queue = queue
    const backlog = this.backlog
    this.backlog = []
    for (const m of backlog) queue.push(m)
    this.stream.resume()
    if (ended) void ended.then((e) => queue.end(e))
    return queue
  }

  /** The connection is over: the iterator ends (with the error, if it was lost). */
  end(error: Error | undefined): void {
    this.queue?.end(error)
  }
}
