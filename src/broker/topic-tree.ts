/*
 * Subscriptions indexed by topic filter: a trie with one node per filter level. A node keeps its
 * literal children in a Map and its '+' and '#' children in dedicated slots, so matching a topic costs
 * one Map lookup per level plus the wildcard branches that exist, whatever the number of unrelated
 * subscriptions.
 */

class Node<T> {
  children: Map<string, Node<T>> | undefined = undefined
  plus: Node<T> | undefined = undefined
  hash: Node<T> | undefined = undefined
  /** The subscriptions whose filter ends at this node, by key (e.g. client id). */
  entries: Map<string, T> | undefined = undefined
}

const DOLLAR = 0x24
const CONSUMED = -1 // a work item's start offset once every level of the topic has been matched

/**
 * Filters must be valid (isValidTopicFilter) and not shared: for `$share/{group}/{filter}` add the
 * inner filter. Matching follows topic.ts's `matches()`.
 */
export class TopicTree<T> {
  private readonly root = new Node<T>()
  private entryCount = 0
  private nodes = 0
  // forEachMatch's work stack (pending node, offset of its next topic level), kept between calls so
  // the hot path allocates nothing; a call made from inside a visit gets a stack of its own.
  private readonly stackNodes: Array<Node<T> | undefined> = []
  private readonly stackStarts: number[] = []
  private walking = false

  /** Number of (filter, key) entries. */
  get size(): number {
    return this.entryCount
  }

  /** Number of trie nodes besides the root (memory metric; empty nodes are pruned). */
  get nodeCount(): number {
    return this.nodes
  }

  /** Stores value for (filter, key), replacing any previous one; true if the pair is new. */
  add(filter: string, key: string, value: T): boolean {
    let node = this.root
    for (const level of filter.split('/')) {
      let child = childOf(node, level)
      if (child === undefined) {
        child = new Node<T>()
        this.nodes++
        if (level === '+') node.plus = child
        else if (level === '#') node.hash = child
        else (node.children ??= new Map()).set(level, child)
      }
      node = child
    }
    const entries = (node.entries ??= new Map())
    const isNew = !entries.has(key)
    entries.set(key, value)
    if (isNew) this.entryCount++
    return isNew
  }

  /** Removes (filter, key) and prunes the nodes left empty; false if it was not there. */
  remove(filter: string, key: string): boolean {
    const levels = filter.split('/')
    const path: Array<Node<T>> = []
    let node: Node<T> | undefined = this.root
    for (const level of levels) {
      path.push(node)
      node = childOf(node, level)
      if (node === undefined) return false
    }
    if (node.entries?.delete(key) !== true) return false
    this.entryCount--
    if (node.entries.size === 0) node.entries = undefined
    for (let i = levels.length - 1; i >= 0 && isEmpty(node); i--) {
      const parent: Node<T> = path[i]!
      const level = levels[i]!
      if (level === '+') parent.plus = undefined
      else if (level === '#') parent.hash = undefined
      else if (parent.children!.delete(level) && parent.children!.size === 0) parent.children = undefined
      this.nodes--
      node = parent
    }
    return true
  }

  get(filter: string, key: string): T | undefined {
    let node: Node<T> | undefined = this.root
    for (const level of filter.split('/')) {
      node = childOf(node, level)
      if (node === undefined) return undefined
    }
    return node.entries?.get(key)
  }

  /**
   * Calls visit(value, key) once for every entry whose filter matches the topic name. A key
   * subscribed through several matching filters is visited once per filter. Filters starting with a
   * wildcard do not match topics starting with '$' [MQTT-4.7.2-1].
   */
  forEachMatch(topic: string, visit: (value: T, key: string) => void): void {
    if (this.walking) {
      this.walk(topic, visit, [], [])
      return
    }
    this.walking = true
    try {
      this.walk(topic, visit, this.stackNodes, this.stackStarts)
    } finally {
      this.walking = false
    }
  }

  // Depth-first over the trie with an explicit stack, so a filter of thousands of levels cannot
  // overflow the call stack. The topic is walked with indexOf; a level is sliced only for a Map lookup.
  private walk(topic: string, visit: (value: T, key: string) => void, nodes: Array<Node<T> | undefined>,
    starts: number[]): void {
    const root = this.root
    const dollar = topic.charCodeAt(0) === DOLLAR
    let sp = 0
    nodes[sp] = root
    starts[sp++] = 0
    while (sp > 0) {
      const node = nodes[--sp]!
      const start = starts[sp]!
      nodes[sp] = undefined // hold no node once done with it
      if (start === CONSUMED) {
        // every level matched: the filters ending here, and 'a/#' also matches 'a'
        node.entries?.forEach(visit)
        node.hash?.entries?.forEach(visit)
        continue
      }
      const wildcards = node !== root || !dollar // [MQTT-4.7.2-1]
      if (wildcards) node.hash?.entries?.forEach(visit) // '#' matches this level and any below
      const end = topic.indexOf('/', start)
      const next = end === -1 ? CONSUMED : end + 1
      if (wildcards && node.plus !== undefined) {
        nodes[sp] = node.plus
        starts[sp++] = next
      }
      const child = node.children?.get(end === -1 ? topic.slice(start) : topic.slice(start, end))
      if (child !== undefined) {
        nodes[sp] = child
        starts[sp++] = next
      }
    }
  }
}

function childOf<T>(node: Node<T>, level: string): Node<T> | undefined {
  if (level === '+') return node.plus
  if (level === '#') return node.hash
  return node.children?.get(level)
}

function isEmpty<T>(node: Node<T>): boolean {
  return node.entries === undefined && node.children === undefined && node.plus === undefined &&
    node.hash === undefined
}
