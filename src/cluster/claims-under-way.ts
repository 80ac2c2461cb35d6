/** One claim (or adoption) of a client's session on this node, from its call to Redis until its session is attached. */
export interface Claim {
  /** The claim's number (its owner value's), once Redis answered. */
  seq: number | undefined
  /** Settles once the claim's number is known (or the claim failed). */
  readonly numbered: Promise<void>
  /** Settles once the claim's session is attached (or the claim failed). */
  readonly done: Promise<void>
}

interface Entry extends Claim {
  readonly number: () => void
  readonly finish: () => void
}

/**
 * The claims of each client's session under way on this node, in the order they were made: a claim
 * goes on only after this node's earlier claims of the client completed, and a hand-over to another
 * node's claim numbered N waits for this node's claims numbered below N (claims racing on several
 * nodes end with exactly one holder, the last in Redis' order).
 */
export class ClaimsUnderWay {
  private readonly byClient = new Map<string, Entry[]>()

  /** A claim starts (before its call to Redis): later claims and hand-overs of the client know of it from now on. */
  open(clientId: string): Claim {
    let finish!: () => void
    let number!: () => void
    const done = new Promise<void>((resolve) => { finish = resolve })
    const numbered = new Promise<void>((resolve) => { number = resolve })
    const entry: Entry = {seq: undefined, numbered, number, done, finish}
    const list = this.byClient.get(clientId) ?? []
    list.push(entry)
    this.byClient.set(clientId, list)
    return entry
  }

  /** Redis answered the claim: its number. */
  numbered(claim: Claim, seq: number): void {
    claim.seq = seq
    ;(claim as Entry).number()
  }

  /** Resolves once this node's claims of the client opened before this one are complete. */
  async afterEarlier(clientId: string, claim: Claim): Promise<void> {
    const list = this.byClient.get(clientId) ?? []
    await Promise.all(list.slice(0, list.indexOf(claim as Entry)).map((p) => p.done))
  }

  /**
   * Resolves once this node's claims of the client numbered below `seq` are complete. A claim sent
   * before this was asked may be one of them: its number is waited for first (a claim sent after it is
   * later than the one numbered `seq`, and is not waited for).
   */
  async before(clientId: string, seq: number): Promise<void> {
    await Promise.all((this.byClient.get(clientId) ?? []).filter((p) => p.seq === undefined).map((p) => p.numbered))
    await Promise.all((this.byClient.get(clientId) ?? []).filter((p) => p.seq !== undefined && p.seq < seq).map((p) => p.done))
  }

  /** The claim is complete: settled after the current turn (the broker attaches its session in the claim's continuation, before the next). */
  complete(clientId: string, claim: Claim): void {
    setImmediate(() => {
      const now = this.byClient.get(clientId)?.filter((p) => p !== claim) ?? []
      if (now.length === 0) this.byClient.delete(clientId)
      else this.byClient.set(clientId, now)
      ;(claim as Entry).number()
      ;(claim as Entry).finish()
    })
  }

  /** Whether this claim is the client's latest here. */
  isLatest(clientId: string, claim: Claim): boolean {
    return this.byClient.get(clientId)?.at(-1) === claim
  }

  /** The client's claims under way here, if any. */
  of(clientId: string): readonly Claim[] | undefined {
    return this.byClient.get(clientId)
  }

  get size(): number {
    return this.byClient.size
  }

  /** Every claim under way. */
  all(): Claim[] {
    return [...this.byClient.values()].flat()
  }
}
