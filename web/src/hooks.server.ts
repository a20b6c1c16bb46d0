import { redirect } from "@sveltejs/kit";
import type { Handle, HandleServerError } from "@sveltejs/kit/hooks";
import { createApiClient } from "#lib/api.ts";
import { apiBaseUrl } from "#lib/server/api-base.ts";
import { SESSION_COOKIE, decodeSession } from "#lib/server/session.ts";

const PUBLIC_PATHS = new Set(["/signin", "/favicon.svg"]);

export const handle: Handle = async ({ event, resolve }) => {
  const session = decodeSession(event.cookies.get(SESSION_COOKIE));
  event.locals.session = session;
  event.locals.api = createApiClient({
    baseUrl: apiBaseUrl(),
    token: session?.token,
    // A revoked or deleted token: back to sign-in, which clears the cookie.
    onUnauthorized: () => redirect(303, `/signin?expired=1&next=${encodeURIComponent(event.url.pathname + event.url.search)}`),
  });

  if (!session && !PUBLIC_PATHS.has(event.url.pathname)) {
    const next = event.url.pathname + event.url.search;
    redirect(303, next === "/" ? "/signin" : `/signin?next=${encodeURIComponent(next)}`);
  }

  const response = await resolve(event);
  // Pages show team data: never cached by shared caches, never framed by other sites.
  response.headers.set("cache-control", "private, no-store");
  response.headers.set("x-frame-options", "DENY");
  response.headers.set("referrer-policy", "same-origin");
  response.headers.set("x-content-type-options", "nosniff");
  return response;
};

export const handleError: HandleServerError = (caught) => {
  if (caught.kind !== "unknown") return;
  // The details go to the server's log; the page gets a sentence.
  console.error(caught.error);
  return { message: "Something went wrong while building this page.", code: "internal_error" };
};
