import type { Principal } from "./auth.ts";
import { forbidden } from "./errors.ts";

/** A team-limited token may only see and write its own team's services. */
export function assertTeamAccess(principal: Principal, teamId: number | null): void {
  if (principal.teamId !== null && principal.teamId !== teamId) {
    throw forbidden("this token is limited to another team");
  }
}
