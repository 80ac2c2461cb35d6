import {parseSharedFilter} from '../codec/topic.js'
import {TopicTree} from '../broker/topic-tree.js'

/** A shared group that matched a topic, and the nodes with members in it. */
export interface SharedMatch {
  /** `$share/{group}/{filter}` */
  key: string
  nodes: Set<string>
}

const NONE: readonly string[] = []
/** Topics whose plain matches are remembered (then forgotten all at once). */
const MEMO_TOPICS = 4096

interface SharedEntry extends SharedMatch {
  next: number
}

/**
 * This node's cache of the cluster's route table: which nodes hold which filters. Plain filters of
 * other nodes go into one topic tree keyed by node id; shared filters (`$share/{group}/{filter}`) of
 * every node, this one included, into another, so that one node can choose which node delivers a
 * group's copy. Changes come from Redis (a full load, then notifications); nothing here talks to Redis.
 */
export class RouteCache {
  private readonly plain = new TopicTree<string>()
  private readonly shared = new TopicTree<SharedEntry>()
  private readonly byNode = new Map<string, Set<string>>()
  /** The nodes of recent topics' plain matches (a topic is mostly published again): dropped on any change. */
  private readonly memo = new Map<string, readonly string[]>()
  // scratch of match(), reused
  private readonly nodeHits = new Set<string>()
  private readonly groupHits: SharedEntry[] = []
  private readonly visitPlain = (node: string) => { this.nodeHits.add(node) }
  private readonly visitShared = (entry: SharedEntry) => { this.groupHits.push(entry) }

  /** Nodes with at least one filter. */
  get nodes(): IterableIterator<string> { return this.byNode.keys() }

  filtersOf(node: string): ReadonlySet<string> | undefined { return this.byNode.get(node) }

  /** Whether a node other than `self` holds a filter: if not, no message leaves `self` and every shared group's copy is its. */
  othersHold(self: string): boolean {
    return this.byNode.size > (this.byNode.has(self) ? 1 : 0)
  }

  add(node: string, filter: string): void {
    let filters = this.byNode.get(node)
    if (filters === undefined) this.byNode.set(node, filters = new Set())
    if (filters.has(filter)) return
    filters.add(filter)
    const share = parseSharedFilter(filter)
    if (share === undefined) {
      this.memo.clear()
      return void this.plain.add(filter, node, node)
    }
    let entry = this.shared.get(share.filter, share.group)
    if (entry === undefined) this.shared.add(share.filter, share.group, entry = {key: filter, nodes: new Set(), next: 0})
    entry.nodes.add(node)
  }

  remove(node: string, filter: string): void {
    const filters = this.byNode.get(node)
    if (filters?.delete(filter) !== true) return
    if (filters.size === 0) this.byNode.delete(node)
    const share = parseSharedFilter(filter)
    if (share === undefined) {
      this.memo.clear()
      return void this.plain.remove(filter, node)
    }
    const entry = this.shared.get(share.filter, share.group)
    if (entry === undefined) return
    entry.nodes.delete(node)
    if (entry.nodes.size === 0) this.shared.remove(share.filter, share.group)
  }

  /** Forgets every filter of a node (gone, or about to be loaded again). */
  dropNode(node: string): void {
    for (const filter of [...this.byNode.get(node) ?? []]) this.remove(node, filter)
  }

  /** Forgets every node but `keep`. */
  clear(keep?: string): void {
    for (const node of [...this.byNode.keys()]) if (node !== keep) this.dropNode(node)
  }

  /**
   * The nodes (other than `self`, which holds no plain filters here) with a plain filter matching the
   * topic, into `nodes`; and for each matching shared group the node chosen to deliver its copy,
   * round-robin over the nodes with members, into `groups` (node -> group keys).
   */
  match(topic: string, nodes: Set<string>, groups: Map<string, string[]>): void {
    const plain = this.plainNodes(topic)
    for (let i = 0; i < plain.length; i++) nodes.add(plain[i]!)
    if (this.shared.size === 0) return
    const groupHits = this.groupHits
    try {
      this.shared.forEachMatch(topic, this.visitShared)
      for (const entry of groupHits) {
        const members = [...entry.nodes]
        const chosen = members[entry.next++ % members.length]!
        const list = groups.get(chosen)
        if (list === undefined) groups.set(chosen, [entry.key])
        else list.push(entry.key)
      }
    } finally {
      groupHits.length = 0
    }
  }

  /** Whether any node holds a shared filter (if not, match's groups stay empty and plainNodes is all it finds). */
  get hasShared(): boolean {
    return this.shared.size > 0
  }

  /** The nodes with a plain filter matching the topic, as match finds them: a list remembered per topic (not to be changed). */
  plainNodes(topic: string): readonly string[] {
    let plain = this.memo.get(topic)
    if (plain !== undefined) return plain
    const hits = this.nodeHits
    try {
      this.plain.forEachMatch(topic, this.visitPlain)
      plain = hits.size === 0 ? NONE : [...hits]
    } finally {
      hits.clear()
    }
    if (this.memo.size >= MEMO_TOPICS) this.memo.clear()
    this.memo.set(topic, plain)
    return plain
  }
}
