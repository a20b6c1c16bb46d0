import type { Database } from "@sluice/db";
import type { Principal, Authenticator } from "./auth.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { Telemetry } from "./telemetry.ts";
import type { PendingGateRequest } from "./webhooks/apply.ts";

export type Clock = () => Date;

export interface AppDeps {
  database: Database;
  config: Config;
  logger: Logger;
  /** "Now", injected so tests of windows, soaks and freezes are exact. */
  clock: Clock;
  /**
   * Called after a deployment_protection_rule delivery is stored and committed; answers
   * GitHub asynchronously (SPEC 7). Not awaited: the webhook is acknowledged at once.
   */
  onGateRequest?: (request: PendingGateRequest) => void;
  /**
   * The background deriver (ingest/src/deriver.ts), told when a write queued derivation
   * work. Without one, the work waits for the next read, which derives it first.
   */
  derivation?: { queued(): void };
  /** Sluice's own metrics; createApp makes one when none is given. */
  telemetry?: Telemetry;
}

export interface RequestDeps extends AppDeps {
  authenticate: Authenticator;
  telemetry: Telemetry;
  tokenLimiter: RateLimiter;
  webhookLimiter: RateLimiter;
}

export interface AppEnv {
  Variables: {
    deps: RequestDeps;
    requestId: string;
    principal: Principal;
  };
}
