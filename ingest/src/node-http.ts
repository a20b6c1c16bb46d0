import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

// Under @hono/node-server the Node request and response are at hand (not under app.request() in
// tests). Reading them directly spares the per-request work of the fetch API's copies: the
// Request's body stream and Headers, a Headers object for one more response header.

type NodeBindings = { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined;

const bindings = (c: Context) => c.env as NodeBindings;

/** Sets a header of the response to come, whatever the handler answers with. */
export function setResponseHeader(c: Context, name: string, value: string, next: () => Promise<void>): Promise<void> {
  const outgoing = bindings(c)?.outgoing;
  // Node merges it with the headers the response is written with.
  if (outgoing) {
    outgoing.setHeader(name, value);
    return next();
  }
  return next().then(() => c.header(name, value));
}

/**
 * The request's headers as a plain object of lowercase names. Under @hono/node-server these
 * are Node's own parsed headers: iterating the fetch Request's headers would build a second
 * copy of them for every delivery.
 */
export function requestHeaders(c: Context): Record<string, string> {
  const parsed: IncomingHttpHeaders | undefined = bindings(c)?.incoming?.headers;
  const headers: Record<string, string> = {};
  if (parsed) {
    for (const [name, value] of Object.entries(parsed)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
  } else {
    c.req.raw.headers.forEach((value, name) => {
      headers[name] = value;
    });
  }
  return headers;
}

/**
 * Refuses a body larger than `maxSize` (413 from `onError`). A declared Content-Length is
 * checked before anything is read, which leaves the body to @hono/node-server's direct read;
 * a chunked body is counted as it streams (hono's bodyLimit). GET and HEAD bodies are
 * never read.
 */
export function limitBody(options: { maxSize: number; onError: (c: Context) => never }): MiddlewareHandler {
  const streamed = bodyLimit(options);
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      if (Number(length) > options.maxSize) options.onError(c);
      return next();
    }
    return streamed(c, next);
  };
}
