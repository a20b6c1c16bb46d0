import type { ApiClient } from "#lib/api.ts";
import type { Session } from "#lib/server/session.ts";

declare global {
  namespace App {
    interface Locals {
      session: Session | null;
      /** The API client with the signed-in user's token (without one before sign-in). */
      api: ApiClient;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}
