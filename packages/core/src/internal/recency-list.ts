/**
 * An intrusive doubly linked list ordered by recency of use: O(1) to append, move to the
 * most recent end, or remove, with no allocation and no Map mutation on a hit.
 */

/** The links a node carries; owned by the list. */
export interface RecencyNode {
  newer: RecencyNode | undefined;
  older: RecencyNode | undefined;
}

/** Nodes from least to most recently used. */
export class RecencyList<N extends RecencyNode> {
  #oldest: N | undefined;
  #newest: N | undefined;

  /** The least recently used node. */
  get oldest(): N | undefined {
    return this.#oldest;
  }

  /** Adds a node (not in any list) as the most recently used. */
  push(node: N): void {
    node.older = this.#newest;
    node.newer = undefined;
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
  }

  /** Marks a node of this list as the most recently used. */
  touch(node: N): void {
    if (this.#newest === node) return;
    this.remove(node);
    this.push(node);
  }

  /** Unlinks a node of this list. */
  remove(node: N): void {
    const { newer, older } = node;
    if (older === undefined) this.#oldest = newer as N | undefined;
    else older.newer = newer;
    if (newer === undefined) this.#newest = older as N | undefined;
    else newer.older = older;
    node.newer = undefined;
    node.older = undefined;
  }

  /** Forgets every node. */
  clear(): void {
    this.#oldest = undefined;
    this.#newest = undefined;
  }

  /** Nodes from least to most recently used; safe against removing the current node. */
  *[Symbol.iterator](): IterableIterator<N> {
    let node = this.#oldest;
    while (node !== undefined) {
      const newer = node.newer as N | undefined;
      yield node;
      node = newer;
    }
  }
}
