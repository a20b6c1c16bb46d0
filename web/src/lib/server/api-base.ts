import { HOST, PORT, SLUICE_API_URL } from "$app/env/private";

/**
 * Where server-side loads reach the API: SLUICE_API_URL, else this same process over
 * loopback (the address it binds when that is a specific one).
 */
export function apiBaseUrl(): string {
  if (SLUICE_API_URL) return SLUICE_API_URL;
  const host = !HOST || HOST === "0.0.0.0" || HOST === "::" ? "127.0.0.1" : HOST;
  return `http://${host.includes(":") ? `[${host}]` : host}:${PORT}`;
}
