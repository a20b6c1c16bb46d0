/** The API as the test reads it, to check the pages' figures against. */
export function apiReader(baseUrl: string, token: string) {
  const get = async <T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const response = await fetch(`${baseUrl}${path}${params.size ? `?${params}` : ""}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  const post = async <T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as T };
  };
  return { get, post };
}

/**
 * Runs a curl command as the dashboard prints it (-X, -H, -d; quotes and $VARIABLES as a
 * shell reads them) with fetch, so the test follows the page's own instructions without
 * depending on a curl binary.
 */
export async function runCurl(command: string, env: Record<string, string>): Promise<Response> {
  const words = shellWords(command.replace(/\\\n/g, " "), env);
  if (words.shift() !== "curl") throw new Error(`not a curl command: ${command}`);
  let method = "GET";
  let url = "";
  let body: string | undefined;
  const headers = new Headers();
  while (words.length) {
    const word = words.shift() as string;
    if (word === "-X") method = words.shift() ?? method;
    else if (word === "-H") {
      const header = words.shift() ?? "";
      const colon = header.indexOf(":");
      headers.set(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
    } else if (word === "-d") {
      body = words.shift();
      if (method === "GET") method = "POST";
    } else if (word.startsWith("-")) continue;
    else url = word;
  }
  return fetch(url, { method, headers, body });
}

function shellWords(text: string, env: Record<string, string>): string[] {
  const words: string[] = [];
  let current = "";
  let started = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quote === "'") {
      if (char === "'") quote = null;
      else current += char;
    } else if (char === "'" || char === '"') {
      if (quote === '"' && char === '"') quote = null;
      else if (quote === null) quote = char;
      else current += char;
      started = true;
    } else if (char === "$" && /[A-Z_]/.test(text[i + 1] ?? "")) {
      const name = /^[A-Z_][A-Z0-9_]*/.exec(text.slice(i + 1))?.[0] ?? "";
      if (!(name in env)) throw new Error(`the command uses $${name}, which the test does not set`);
      current += env[name];
      i += name.length;
      started = true;
    } else if (quote === null && /\s/.test(char)) {
      if (started) words.push(current);
      current = "";
      started = false;
    } else {
      current += char;
      started = true;
    }
  }
  if (started) words.push(current);
  return words;
}
