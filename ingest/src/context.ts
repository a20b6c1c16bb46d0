import type { Database } from "@sluice/db";
import type { Principal, Authenticator } from "./auth.ts";
import type { Config } from "./config.ts";
import type { Logger } from "./logger.ts";

export type Clock = () => Date;

export interface AppDeps {
  database: Database;
  config: Config;
  logger: Logger;
  /** "Now", injected so tests of windows, soaks and freezes are exact. */
  clock: Clock;
}

export interface RequestDeps extends AppDeps {
  authenticate: Authenticator;
}

export interface AppEnv {
  Variables: {
    deps: RequestDeps;
    requestId: string;
    principal: Principal;
  };
}
