/**
 * Collects the items that arrive under one owner in the same turn of the event loop and
 * hands them to `flush` together on the next turn: the webhook path's group commit
 * (store-changes.ts) and its shared integration reads (integrations.ts).
 */
export function batchThisTurn<O extends object, T>(open: WeakMap<O, T[]>, owner: O, item: T, flush: (items: T[]) => void): void {
  let batch = open.get(owner);
  if (!batch) {
    const started: T[] = [];
    batch = started;
    open.set(owner, started);
    setImmediate(() => {
      open.delete(owner);
      flush(started);
    });
  }
  batch.push(item);
}
