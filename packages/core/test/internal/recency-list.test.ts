import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecencyList, type RecencyNode } from '../../src/internal/recency-list.js';

interface Node extends RecencyNode {
  readonly id: number;
}
const node = (id: number): Node => ({ id, newer: undefined, older: undefined });
const ids = (list: RecencyList<Node>) => [...list].map((n) => n.id);

describe('RecencyList', () => {
  it('keeps nodes from least to most recently used; touch moves a node to the newest end', () => {
    const list = new RecencyList<Node>();
    const [a, b, c] = [node(1), node(2), node(3)];
    list.push(a);
    list.push(b);
    list.push(c);
    expect(ids(list)).toEqual([1, 2, 3]);
    list.touch(a);
    expect(ids(list)).toEqual([2, 3, 1]);
    expect(list.oldest).toBe(b);
    list.remove(c);
    expect(ids(list)).toEqual([2, 1]);
    list.clear();
    expect(ids(list)).toEqual([]);
    expect(list.oldest).toBeUndefined();
  });

  it('iteration survives removing the node being visited', () => {
    const list = new RecencyList<Node>();
    const nodes = [1, 2, 3, 4].map(node);
    for (const n of nodes) list.push(n);
    for (const n of list) if (n.id % 2 === 1) list.remove(n);
    expect(ids(list)).toEqual([2, 4]);
  });

  it('property: agrees with an array model under random push/touch/remove', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('push', 'touch', 'remove'), fc.nat(20)), {
          maxLength: 200,
        }),
        (ops) => {
          const list = new RecencyList<Node>();
          const nodes = new Map<number, Node>();
          let model: number[] = [];
          for (const [op, id] of ops) {
            const present = nodes.get(id);
            if (op === 'push' && present === undefined) {
              const n = node(id);
              nodes.set(id, n);
              list.push(n);
              model.push(id);
            } else if (op === 'touch' && present !== undefined) {
              list.touch(present);
              model = [...model.filter((x) => x !== id), id];
            } else if (op === 'remove' && present !== undefined) {
              list.remove(present);
              nodes.delete(id);
              model = model.filter((x) => x !== id);
            }
            expect(ids(list)).toEqual(model);
            expect(list.oldest?.id).toBe(model[0]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
