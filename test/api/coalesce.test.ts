import { describe, expect, test } from "vitest";
import { Coalescer } from "../../ingest/src/webhooks/coalesce.ts";

/** A `run` whose batches end when the test says so. */
function recorder() {
  const batches: number[][] = [];
  const ends: Array<() => void> = [];
  let running = 0;
  let mostRunning = 0;
  const run = (batch: number[]) => {
    batches.push(batch);
    running++;
    mostRunning = Math.max(mostRunning, running);
    return new Promise<void>((resolve) =>
      ends.push(() => {
        running--;
        resolve();
      }),
    );
  };
  return { batches, ends, run, mostRunning: () => mostRunning };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("Coalescer (the webhook path's group commit)", () => {
  test("items of one turn go together on the next turn; a lone item waits one turn only", async () => {
    const r = recorder();
    const coalescer = new Coalescer({ concurrency: 2, maxBatch: 10, run: r.run });
    coalescer.add(1);
    coalescer.add(2);
    expect(r.batches).toEqual([]);
    await nextTurn();
    expect(r.batches).toEqual([[1, 2]]);
    coalescer.add(3);
    await nextTurn();
    // One batch running of two allowed: the next starts at once.
    expect(r.batches).toEqual([[1, 2], [3]]);
  });

  test("while `concurrency` batches run, arrivals wait and form the next batch, at most maxBatch each", async () => {
    const r = recorder();
    const coalescer = new Coalescer({ concurrency: 2, maxBatch: 3, run: r.run });
    coalescer.add(1);
    await nextTurn();
    coalescer.add(2);
    await nextTurn();
    expect(r.batches).toEqual([[1], [2]]);
    for (const item of [3, 4, 5, 6, 7]) coalescer.add(item);
    await nextTurn();
    expect(r.batches).toHaveLength(2);
    r.ends[0]?.();
    await nextTurn();
    await nextTurn();
    expect(r.batches).toEqual([[1], [2], [3, 4, 5]]);
    r.ends[1]?.();
    await nextTurn();
    await nextTurn();
    expect(r.batches).toEqual([[1], [2], [3, 4, 5], [6, 7]]);
    expect(r.mostRunning()).toBe(2);
  });

  test("a batch whose run fails does not stop the ones after it", async () => {
    const batches: number[][] = [];
    const coalescer = new Coalescer<number>({
      concurrency: 1,
      maxBatch: 10,
      run: async (batch) => {
        batches.push(batch);
        if (batch.includes(1)) throw new Error("down");
      },
    });
    coalescer.add(1);
    await nextTurn();
    coalescer.add(2);
    for (let i = 0; i < 5; i++) await nextTurn();
    expect(batches).toEqual([[1], [2]]);
  });
});
