/*
 * Packet identifiers for one direction of one session. [MQTT-2.2.1-3] [MQTT-2.2.1-4] a new SUBSCRIBE,
 * UNSUBSCRIBE or QoS > 0 PUBLISH carries a non-zero identifier that is currently unused; it becomes
 * reusable once its acknowledgement flow completes (release).
 */

const MAX_ID = 65535

export class PacketIdAllocator {
  // A Set rather than a 65536-entry bitmap: a session holds few ids at once, and there may be many
  // sessions.
  private readonly used = new Set<number>()
  private last = 0

  /** Ids currently in use. */
  get inUse(): number {
    return this.used.size
  }

  /**
   * The next unused id after the last one allocated, wrapping from 65535 to 1, so a just-released id
   * is not handed out again soon. Undefined when all 65535 are in use.
   */
  allocate(): number | undefined {
    if (this.used.size >= MAX_ID) return undefined
    let id = this.last
    do id = id === MAX_ID ? 1 : id + 1
    while (this.used.has(id))
    this.used.add(id)
    this.last = id
    return id
  }

  /** Marks an id in use (e.g. restored from storage); false if it already was. Throws on 0 or > 65535. */
  register(id: number): boolean {
    if (!Number.isInteger(id) || id < 1 || id > MAX_ID) throw new RangeError(`invalid packet id ${id}`)
    if (this.used.has(id)) return false
    this.used.add(id)
    return true
  }

  /** Makes an id available again; false if it was not in use. */
  release(id: number): boolean {
    return this.used.delete(id)
  }

  isInUse(id: number): boolean {
    return this.used.has(id)
  }

  /** Releases every id; allocation continues after the last id handed out. */
  clear(): void {
    this.used.clear()
  }
}
