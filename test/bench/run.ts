// `npm run bench`: every benchmark, one after the other; `npm run bench -- ingest metrics` runs a subset.
import { readdirSync } from "node:fs";

const wanted = process.argv.slice(2);
const available = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".ts") && !["run.ts", "harness.ts", "pacer.ts"].includes(file))
  .map((file) => file.replace(/\.ts$/, ""))
  .sort((a, b) => (a === "ingest" ? -1 : b === "ingest" ? 1 : a.localeCompare(b)));

for (const name of available.filter((n) => wanted.length === 0 || wanted.includes(n))) {
  console.log(`\n=== bench: ${name} ===`);
  const module = (await import(`./${name}.ts`)) as { run?: () => Promise<unknown> };
  if (typeof module.run === "function") await module.run();
}
