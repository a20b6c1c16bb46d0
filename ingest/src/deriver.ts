import { type Database, deriveSome } from "@sluice/db";
import type { Logger } from "./logger.ts";

export interface Deriver {
  /** An ingest write queued derivation work: run soon. */
  queued(): void;
  /** Stops the loop after the round in progress. */
  stop(): Promise<void>;
}

/**
 * The background half of derivation (docs/operations.md "Derivation"): while entries are
 * queued it derives them in rounds of up to 32 services, one transaction each, skipping
 * services another replica is deriving. Writes that arrive during a round are taken by the
 * next, so a busy service's events are derived together. When idle it waits to be told,
 * and looks every `pollMs` anyway for work left by another replica or a crash.
 */
export function startDeriver(options: { database: Database; logger: Logger; pollMs?: number }): Deriver {
  let stopped = false;
  let wake: (() => void) | undefined;
  let pending = false;
  const idle = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.pollMs ?? 1000);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopped) {
      pending = false;
      let done = 0;
      try {
        done = await deriveSome(options.database.db);
      } catch (error) {
        options.logger.error({ msg: "derivation round failed", err: error });
      }
      if (done === 0 && !pending && !stopped) await idle();
      wake = undefined;
    }
  })();

  return {
    queued() {
      pending = true;
      wake?.();
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
