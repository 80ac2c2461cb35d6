/*
 * Retained messages indexed by topic name: a trie with one node per topic level, so a subscription's
 * filter walks only the branches it can match instead of scanning every retained topic.
 */

class Node<T> {
  children: Map<string, Node<T>> | undefined = undefined
  /** The topic stored at this node, undefined when none is. */
  topic: string | undefined = undefined
  value: T | undefined = undefined
}

const DOLLAR = 0x24
const CONSUMED = -1 // work item: every filter level matched, visit this node
const SUBTREE = -2 // work item: '#' matched, visit this node and all below it

/** Topic names are stored as given (validate them with isValidTopicName first). */
export class RetainedTree<T> {
  private readonly root = new Node<T>()
  private count = 0
  private nodes = 0

  get size(): number {
    return this.count
  }

  /** Number of trie nodes besides the root (memory metric; empty nodes are pruned). */
  get nodeCount(): number {
    return this.nodes
  }

  set(topic: string, value: T): void {
    let node = this.root
    for (const level of topic.split('/')) {
      let child = node.children?.get(level)
      if (child === undefined) {
        child = new Node<T>()
        this.nodes++
        node.children ??= new Map()
        node.children.set(level, child)
      }
      node = child
    }
    if (node.topic === undefined) this.count++
    node.topic = topic
    node.value = value
  }

  get(topic: string): T | undefined {
    return this.find(topic)?.value
  }

  /** Removes the topic and prunes the nodes left empty; false if it was not stored. */
  delete(topic: string): boolean {
    const levels = topic.split('/')
    const path: Array<Node<T>> = []
    let node: Node<T> | undefined = this.root
    for (const level of levels) {
      path.push(node)
      node = node.children?.get(level)
      if (node === undefined) return false
    }
    if (node.topic === undefined) return false
    node.topic = undefined
    node.value = undefined
    this.count--
    for (let i = levels.length - 1; i >= 0 && node.topic === undefined && node.children === undefined; i--) {
      const parent: Node<T> = path[i]!
      parent.children!.delete(levels[i]!)
      if (parent.children!.size === 0) parent.children = undefined
      this.nodes--
      node = parent
    }
    return true
  }

  /**
   * Calls visit(value, topic) for every stored topic the filter matches (a valid, non-shared filter),
   * each once. Topics starting with '$' are not matched by a leading wildcard [MQTT-4.7.2-1].
   */
  forEachMatching(filter: string, visit: (value: T, topic: string) => void): void {
    // Explicit stack rather than recursion: topics may have tens of thousands of levels.
    const work: Array<[Node<T>, number]> = [[this.root, 0]]
    for (let item = work.pop(); item !== undefined; item = work.pop()) {
      const [node, start] = item
      if (start === CONSUMED || start === SUBTREE) {
        if (node.topic !== undefined) visit(node.value as T, node.topic)
        if (start === SUBTREE) node.children?.forEach((child) => { work.push([child, SUBTREE]) })
        continue
      }
      const end = filter.indexOf('/', start)
      const level = end === -1 ? filter.slice(start) : filter.slice(start, end)
      const next = end === -1 ? CONSUMED : end + 1
      const atRoot = node === this.root
      if (level === '#') {
        // [MQTT-4.7.1-1] '#' matches the parent level and every level below it
        if (node.topic !== undefined) visit(node.value as T, node.topic)
        node.children?.forEach((child, key) => {
          if (!atRoot || key.charCodeAt(0) !== DOLLAR) work.push([child, SUBTREE])
        })
      } else if (level === '+') {
        node.children?.forEach((child, key) => {
          if (!atRoot || key.charCodeAt(0) !== DOLLAR) work.push([child, next])
        })
      } else {
        const child = node.children?.get(level)
        if (child !== undefined) work.push([child, next])
      }
    }
  }

  /** Every stored [topic, value], in no particular order. */
  *entries(): IterableIterator<[string, T]> {
    const work: Array<Node<T>> = [this.root]
    for (let node = work.pop(); node !== undefined; node = work.pop()) {
      if (node.topic !== undefined) yield [node.topic, node.value as T]
      if (node.children !== undefined) for (const child of node.children.values()) work.push(child)
    }
  }

  private find(topic: string): Node<T> | undefined {
    let node: Node<T> | undefined = this.root
    for (const level of topic.split('/')) {
      node = node.children?.get(level)
      if (node === undefined) return undefined
    }
    return node
  }
}
