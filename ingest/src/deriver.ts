import { type Database, deriveSome } from "@sluice/db";
import type { Logger } from "./logger.ts";

export interface Deriver {
  /** An ingest write queued derivation work: run soon. */
  queued(): void;
  /** Stops the loop after the round in progress. */
  stop(): Promise<void>;
}

/** While writes keep coming, a round starts this long after the last one ended (docs/operations.md "Derivation"). */
export const BUSY_PAUSE_MS = 250;

/**
 * The background half of derivation (docs/operations.md "Derivation"): while entries are
 * queued it derives them in rounds of up to 32 services, one transaction each, skipping
 * services another replica is deriving. A write after a quiet spell starts a round at once;
 * while writes keep coming, rounds are `busyPauseMs` apart, so that each folds a busy
 * service's writes of that time together. A service's share of a round costs about the same
 * whether it folds one entry or fifty (the same few statements and a commit): under a steady
 * stream of pushes, the pause cut the deriver's CPU by about two thirds. Reads derive what is
 * still queued themselves, so the pause never shows in an answer. When idle it waits to be
 * told, and looks every `pollMs` anyway for work left by another replica or a crash.
 */
export function startDeriver(options: {
  database: Database;
  logger: Logger;
  pollMs?: number;
  busyPauseMs?: number;
  /** One round; returns the number of entries derived (tests replace it). */
  round?: () => Promise<number>;
}): Deriver {
  const round =
    options.round ??
    (() =>
      deriveSome(options.database.db, 32, (failure, error) =>
        options.logger[failure.setAside ? "error" : "warn"]({
          msg: failure.setAside ? "derivation entry set aside after repeated failures" : "derivation entry failed; retrying later",
          ...failure,
          err: error,
        }),
      ));
  let stopped = false;
  let pending = false;
  // Settles the wait in progress: a pause ends early only when stopping, the idle wait also on queued().
  let wake: ((why: "queued" | "stop") => void) | undefined;
  const wait = (ms: number, endsOn: "queued" | "stop") =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = (why) => {
        if (why === "stop" || endsOn === "queued") done();
      };
    });

  const loop = (async () => {
    while (!stopped) {
      pending = false;
      let done = 0;
      try {
        done = await round();
      } catch (error) {
        options.logger.error({ msg: "derivation round failed", err: error });
      }
      if (stopped) break;
      if (done > 0) await wait(options.busyPauseMs ?? BUSY_PAUSE_MS, "stop");
      else if (!pending) await wait(options.pollMs ?? 1000, "queued");
    }
  })();

  return {
    queued() {
      pending = true;
      wake?.("queued");
    },
    async stop() {
      stopped = true;
      wake?.("stop");
      await loop;
    },
  };
}
