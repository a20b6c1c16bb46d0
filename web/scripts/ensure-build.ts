/**
 * Builds the dashboard (web/build) when it is missing or older than its sources, so that
 * `npm start` on a fresh clone serves the dashboard. Run by the root `prestart` script.
 * "Older" is decided by a hash of the sources and of the build tools' versions, not by file
 * times (a checkout sets those to the checkout's time).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const web = dirname(dirname(fileURLToPath(import.meta.url)));
const stampFile = join(web, "build", ".source-hash");
const INPUTS = ["src", "static", "vite.config.ts", "package.json", "tsconfig.json"];
const TOOLS = ["@sveltejs/kit", "svelte", "vite", "@sveltejs/adapter-node", "@sveltejs/vite-plugin-svelte", "d3-scale", "d3-shape"];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

export function sourceHash(): string {
  const hash = createHash("sha256");
  for (const file of INPUTS.flatMap((input) => files(join(web, input)))) {
    hash.update(relative(web, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  const require = createRequire(join(web, "package.json"));
  for (const tool of TOOLS) {
    try {
      const version = (JSON.parse(readFileSync(require.resolve(`${tool}/package.json`), "utf8")) as { version: string }).version;
      hash.update(`${tool}@${version}\0`);
    } catch {
      hash.update(`${tool}@missing\0`);
    }
  }
  return hash.digest("hex");
}

export function buildIsCurrent(hash = sourceHash()): boolean {
  return existsSync(join(web, "build", "handler.js")) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === hash;
}

/** Builds when needed; returns false only when no usable build exists afterwards. */
export function ensureBuild(
  options: { force?: boolean; log?: (line: string) => void } = {},
): boolean {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const hash = sourceHash();
  if (!options.force && buildIsCurrent(hash)) return true;
  const hadBuild = existsSync(join(web, "build", "handler.js"));
  log(
    options.force
      ? "sluice: building the dashboard…"
      : hadBuild
        ? "sluice: the dashboard changed since it was built; building it again…"
        : "sluice: building the dashboard (first start)…",
  );
  const started = Date.now();
  const vite = join(createRequire(join(web, "package.json")).resolve("vite/package.json"), "..", "bin", "vite.js");
  const result = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], { cwd: web, stdio: "inherit" });
  if (result.status === 0 && existsSync(join(web, "build", "handler.js"))) {
    writeFileSync(stampFile, `${hash}\n`);
    log(`sluice: dashboard built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return true;
  }
  log(
    hadBuild
      ? "sluice: building the dashboard failed; serving the previous build"
      : "sluice: building the dashboard failed (see above); run `npm install`, then `npm run build`",
  );
  return hadBuild;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // --force (the web package's `build` script) always builds, and still stamps the result.
  process.exitCode = ensureBuild({ force: process.argv.includes("--force") }) ? 0 : 1;
}
