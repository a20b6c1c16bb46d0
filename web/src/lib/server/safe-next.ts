const ORIGIN = "http://sluice.invalid";

/** Control characters (C0, DEL, C1), the space and the backslash. */
const unsafe = (char: string) => {
  const code = char.charCodeAt(0);
  return code <= 0x20 || (code >= 0x7f && code <= 0x9f) || char === "\\";
};

/**
 * Where to go after signing in: a path of this site only, never another origin. Browsers
 * drop tabs and newlines from URLs ("/\t/evil.example/" becomes "//evil.example/") and read
 * "\" as "/", so anything with control characters, spaces or backslashes is refused before the
 * URL parser sees it; what remains must resolve to this origin. The answer is the parsed,
 * canonical path, safe to put in a Location header.
 */
export function safeNext(value: string | null): string {
  if (!value?.startsWith("/") || value.length > 2000 || [...value].some(unsafe)) return "/";
  let url: URL;
  try {
    url = new URL(value, ORIGIN);
  } catch {
    return "/";
  }
  if (url.origin !== ORIGIN || url.pathname.startsWith("//")) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}
