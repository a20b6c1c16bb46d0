import type { AppDeps } from "../context.ts";
import { runDueProtectionRequests } from "./github-app.ts";

/**
 * Re-evaluates pending GitHub deployment protection rules until they are decided. Every
 * replica may run one: requests are claimed with SKIP LOCKED, so each is worked on once.
 * Returns a stop function that waits for the tick in progress.
 */
export function startGateScheduler(
  deps: Pick<AppDeps, "database" | "logger" | "clock" | "config" | "telemetry">,
  options: { intervalMs?: number } = {},
): () => Promise<void> {
  const intervalMs = options.intervalMs ?? 5_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();

  const tick = async () => {
    try {
      // Drain what is due, a batch at a time, before sleeping again.
      while (!stopped && (await runDueProtectionRequests(deps)) > 0) {}
    } catch (error) {
      deps.logger.error({ msg: "gate scheduler tick failed", err: error });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
