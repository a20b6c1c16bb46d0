import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Which addresses a gate may call out to (SPEC 7 v2, SLUICE_PROMETHEUS_ALLOW). A rule's URL
 * is written by an admin but its answer is shown to every reader, so without this a gate is
 * a way to read cloud credentials from the metadata service of the host Sluice runs on.
 */

export type Family = 4 | 6;
export type Resolve = (host: string) => Promise<Array<{ address: string; family: Family }>>;

/** Every address the system resolver gives, in its order (the one connect() would use first). */
export const resolveAll: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));

export type AddressCheck =
  | { ok: true; host: string; address: string; family: Family }
  | { ok: false; kind: "refused"; reason: string }
  | { ok: false; kind: "unresolved"; code: string };

/** Names of cloud metadata services; their addresses are refused below as well, this catches odd resolvers. */
const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
  "metadata.tencentyun.com",
  "metadata.azure.internal",
]);

/** Link-local ranges hold every cloud's metadata service (169.254.169.254) and nothing a Prometheus lives on. */
const linkLocal = new BlockList();
linkLocal.addSubnet("169.254.0.0", 16, "ipv4");
linkLocal.addSubnet("fe80::", 10, "ipv6");

/** Metadata endpoints outside the link-local ranges. */
const metadata = new BlockList();
metadata.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud
metadata.addAddress("168.63.129.16", "ipv4"); // Azure's platform endpoint (WireServer)
metadata.addAddress("fd00:ec2::254", "ipv6"); // AWS IMDS over IPv6

/** The eight 16-bit words of an IPv6 address (zone id dropped), or null when it is not one. */
function ipv6Words(address: string): number[] | null {
  const plain = address.replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  if (isIP(plain) !== 6) return null;
  let text = plain;
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.split(".").map(Number);
    text = `${text.slice(0, -dotted.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const part = (s: string) => (s === "" ? [] : s.split(":").map((w) => Number.parseInt(w, 16)));
  const front = part(head);
  const back = tail === undefined ? [] : part(tail);
  const fill = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...new Array<number>(fill).fill(0), ...back];
}

/**
 * The IPv4 address an IPv6 one carries and a socket would really reach: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d).
 */
function embeddedIPv4(address: string): string | null {
  const w = ipv6Words(address);
  if (!w) return null;
  const zeros = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  const mapped = zeros(0, 5) && (w[5] === 0xffff || w[5] === 0);
  const nat64 = w[0] === 0x64 && w[1] === 0xff9b && zeros(2, 6);
  if (!mapped && !nat64) return null;
  const [hi = 0, lo = 0] = [w[6], w[7]];
  if (mapped && w[5] === 0 && hi === 0) return null; // :: and ::1 are not IPv4 addresses
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
}

/** The forms of an address to check: itself and the IPv4 address it stands for, if any. */
function forms(address: string): Array<{ address: string; type: "ipv4" | "ipv6" }> {
  const plain = address.replace(/^\[|\]$/g, "").split("%")[0] ?? "";
  if (isIP(plain) === 4) return [{ address: plain, type: "ipv4" }];
  const v4 = embeddedIPv4(plain);
  return [{ address: plain, type: "ipv6" }, ...(v4 ? [{ address: v4, type: "ipv4" as const }] : [])];
}

const inList = (list: BlockList, address: string) => forms(address).some((f) => list.check(f.address, f.type));

/** The allow list split into the names it vouches for and the addresses and blocks it lets through. */
export interface AllowList {
  names: Set<string>;
  addresses: BlockList;
  /** Set: only what it lists is reached. Empty: anything but link-local and metadata addresses. */
  restrictive: boolean;
}

/** Built once per list (the configuration's is one array for the process), not per request. */
const builtLists = new WeakMap<readonly string[], AllowList>();

export function allowList(entries: readonly string[]): AllowList {
  let built = builtLists.get(entries);
  if (!built) {
    built = buildAllowList(entries);
    builtLists.set(entries, built);
  }
  return built;
}

function buildAllowList(entries: readonly string[]): AllowList {
  const names = new Set<string>();
  const addresses = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/\.+$/, "");
    const [address = "", bits] = entry.split("/");
    const version = isIP(address);
    if (version === 0) names.add(entry);
    else if (bits === undefined) addresses.addAddress(address, version === 4 ? "ipv4" : "ipv6");
    else addresses.addSubnet(address, Number(bits), version === 4 ? "ipv4" : "ipv6");
  }
  return { names, addresses, restrictive: entries.length > 0 };
}

/**
 * Decides, before any socket opens, whether `url` may be called and which address to
 * connect to. Entries of the allow list match the URL's host as written: a name entry that
 * exact name, an IP or CIDR entry an address in the URL. A name's resolved addresses are
 * all checked, and the caller connects to the one returned, so DNS rebinding between this
 * check and the connection cannot reach anything else.
 */
export async function checkOutbound(url: URL, policy: { allow: AllowList; resolve: Resolve }): Promise<AddressCheck> {
  // WHATWG parsing has already turned decimal, octal and hex IPv4 spellings into dotted quads.
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.+$/, "");
  const literal = isIP(host) !== 0;
  const { allow } = policy;
  const named = !literal && allow.names.has(host);
  const listed = (address: string) => inList(allow.addresses, address);
  if (allow.restrictive && !(literal ? listed(host) : named)) {
    return { ok: false, kind: "refused", reason: "its host is not listed in SLUICE_PROMETHEUS_ALLOW" };
  }
  if (!literal && !named && METADATA_NAMES.has(host)) {
    return { ok: false, kind: "refused", reason: "its host is a cloud metadata service" };
  }
  let addresses: Array<{ address: string; family: Family }>;
  if (literal) addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await policy.resolve(host);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return { ok: false, kind: "unresolved", code: typeof code === "string" && /^E[A-Z0-9_]+$/.test(code) ? code : "ENOTFOUND" };
    }
  }
  const first = addresses[0];
  if (!first) return { ok: false, kind: "unresolved", code: "ENOTFOUND" };
  for (const { address } of addresses) {
    if (listed(address)) continue;
    const what = literal ? "its address is" : "its host resolves to";
    if (inList(linkLocal, address)) return { ok: false, kind: "refused", reason: `${what} a link-local address` };
    if (inList(metadata, address)) return { ok: false, kind: "refused", reason: `${what} a cloud metadata address` };
  }
  return { ok: true, host, address: first.address, family: first.family };
}
