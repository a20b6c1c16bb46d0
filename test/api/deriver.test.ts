import type { Database } from "@sluice/db";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { startDeriver } from "../../ingest/src/deriver.ts";
import { createLogger } from "../../ingest/src/logger.ts";

/** Rounds that derive what the test put in `queue` (one entry each, all of it per round). */
function rounds() {
  const started: number[] = [];
  let queue = 0;
  const round = async () => {
    started.push(Date.now());
    const done = queue;
    queue = 0;
    return done;
  };
  return { started, round, write: () => queue++ };
}

// Only `round` is used: the deriver never touches the database when given one.
const database = {} as Database;
const logger = createLogger("silent");
const settle = () => vi.advanceTimersByTimeAsync(0);

describe("the background deriver's rounds", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("a write after a quiet spell starts a round at once; writes that keep coming wait for the pause", async () => {
    const r = rounds();
    const deriver = startDeriver({ database, logger, pollMs: 10_000, busyPauseMs: 250, round: r.round });
    await settle();
    expect(r.started).toEqual([0]); // the first look, which finds nothing

    await vi.advanceTimersByTimeAsync(1000);
    r.write();
    deriver.queued();
    await settle();
    expect(r.started).toEqual([0, 1000]); // woken, not left for the poll

    // That round derived something: the writes during the next 250 ms go together in one round.
    for (let ms = 0; ms < 240; ms += 40) {
      r.write();
      deriver.queued();
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(r.started).toEqual([0, 1000]);
    await vi.advanceTimersByTimeAsync(10);
    expect(r.started).toEqual([0, 1000, 1250]);

    // It derived 6: another pause, then a round that finds nothing, then idle until told or the poll.
    await vi.advanceTimersByTimeAsync(250);
    expect(r.started).toEqual([0, 1000, 1250, 1500]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.started).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.started).toEqual([0, 1000, 1250, 1500, 11_500]);
    await deriver.stop();
  });

  test("stop() ends a pause without waiting it out", async () => {
    const r = rounds();
    r.write();
    const deriver = startDeriver({ database, logger, busyPauseMs: 60_000, round: r.round });
    await settle();
    expect(r.started).toEqual([0]);
    let stopped = false;
    void deriver.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(true);
    expect(r.started).toEqual([0]);
  });

  test("a failed round does not stop the deriver", async () => {
    let calls = 0;
    const deriver = startDeriver({
      database,
      logger,
      pollMs: 100,
      round: async () => {
        calls++;
        if (calls === 1) throw new Error("connection lost");
        return 0;
      },
    });
    await vi.advanceTimersByTimeAsync(250);
    expect(calls).toBe(3);
    await deriver.stop();
  });
});
