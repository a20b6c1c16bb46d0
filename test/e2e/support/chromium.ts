import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Debian's chromium, as CI installs it (apt-get install chromium): the path `which` prints,
 * or SLUICE_CHROMIUM_PATH. Null when there is none.
 */
export function findChromium(): string | null {
  const fromEnv = process.env.SLUICE_CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const path = execFileSync("which", [name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
      if (path && existsSync(path)) return path;
    } catch {
      // not on PATH: try the next name
    }
  }
  return null;
}

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

/**
 * The suite runs when Chromium is there. Without it, it is skipped, unless SLUICE_E2E_REQUIRED
 * is set (CI sets it): then a missing browser fails the run instead of passing silently.
 */
export function chromiumOrSkip(): string | null {
  const path = findChromium();
  if (!path && process.env.SLUICE_E2E_REQUIRED) {
    throw new Error("SLUICE_E2E_REQUIRED is set but no Chromium was found: apt-get install -y chromium");
  }
  return path;
}
