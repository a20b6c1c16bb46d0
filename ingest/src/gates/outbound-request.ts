import type { LookupFunction } from "node:net";
import { type ClientRequest, type IncomingMessage, type RequestOptions, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type Family, type Resolve, allowList, checkOutbound, resolveAll } from "./outbound-address.ts";

/**
 * One bounded GET to a server an admin named (a Prometheus): the address is checked before
 * the socket opens and pinned for the connection, redirects are answers rather than hops,
 * and the body is read up to a cap and then dropped, so no answer can hold Sluice's memory
 * or time beyond what the rule allows.
 */

export type Open = (url: URL, options: RequestOptions) => ClientRequest;

/** How the request goes out; tests replace `open` and `resolve` to watch or forbid connections. */
export interface Outbound {
  /** SLUICE_PROMETHEUS_ALLOW as configured: host names, addresses and CIDR blocks. */
  allow: readonly string[];
  resolve?: Resolve;
  open?: Open;
}

export type FetchOutcome =
  | { kind: "answer"; status: number; body: string }
  | { kind: "redirect"; status: number }
  | { kind: "too_large"; maxBytes: number }
  | { kind: "timeout" }
  | { kind: "refused"; reason: string }
  | { kind: "unreachable"; code: string };

const openRequest: Open = (url, options) => (url.protocol === "https:" ? httpsRequest : httpRequest)(options);

/** A resolver that answers with the address already checked, whatever is asked. */
function pinned(address: string, family: Family): LookupFunction {
  return ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    // net.connect asks for every address when it races IPv4 against IPv6 (autoSelectFamily).
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

/** Rejects when the signal fires, so a slow resolver counts against the same timeout. */
function racing<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

function readCapped(response: IncomingMessage, maxBytes: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Dropping what was read frees it now; destroying the socket stops the sender.
        chunks.length = 0;
        response.destroy();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    response.on("error", reject);
    // A connection that closes mid-body ends nothing; settle rather than wait for the timeout.
    response.on("close", () => reject(new Error("closed before the end of the answer")));
  });
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  // Only an errno-style code: an error's message can carry the URL (and so its query or host details).
  return typeof code === "string" && /^E[A-Z0-9_]{1,40}$/.test(code) ? code : "connection failed";
}

export async function boundedGet(
  url: URL,
  input: { headers: Record<string, string>; timeoutMs: number; maxBytes: number; outbound: Outbound },
): Promise<FetchOutcome> {
  if (url.username || url.password) {
    // Refused at save time; a rule stored before that was never sent with them either.
    return { kind: "refused", reason: "its URL holds credentials (put them in headers instead)" };
  }
  const signal = AbortSignal.timeout(input.timeoutMs);
  const { outbound } = input;
  let request: ClientRequest | undefined;
  try {
    const checked = await racing(checkOutbound(url, { allow: allowList(outbound.allow), resolve: outbound.resolve ?? resolveAll }), signal);
    if (!checked.ok) {
      return checked.kind === "refused" ? { kind: "refused", reason: checked.reason } : { kind: "unreachable", code: checked.code };
    }
    const open = outbound.open ?? openRequest;
    request = open(url, {
      protocol: url.protocol,
      hostname: checked.host,
      port: url.port || undefined,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: { ...input.headers, accept: "application/json" },
      // Host names connect to the address checked above; address literals are never looked up.
      lookup: pinned(checked.address, checked.family),
      // A pooled socket would outlive this check; one connection per question is cheap at gate rates.
      agent: false,
      signal,
    });
    const sent = request;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      sent.once("response", resolve);
      sent.once("error", reject);
      sent.end();
    });
    // Late socket errors (after a too-large answer is dropped, say) have nothing left to fail.
    sent.on("error", () => {});
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400) {
      response.destroy();
      return { kind: "redirect", status };
    }
    const declared = Number(response.headers["content-length"]);
    if (Number.isFinite(declared) && declared > input.maxBytes) {
      response.destroy();
      return { kind: "too_large", maxBytes: input.maxBytes };
    }
    const body = await readCapped(response, input.maxBytes);
    return body === null ? { kind: "too_large", maxBytes: input.maxBytes } : { kind: "answer", status, body };
  } catch (error) {
    if (signal.aborted) return { kind: "timeout" };
    return { kind: "unreachable", code: errorCode(error) };
  } finally {
    request?.destroy();
  }
}
