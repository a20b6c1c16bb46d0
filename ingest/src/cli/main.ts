#!/usr/bin/env node
// The `sluice` command. Kept to the entry alone, so importing the CLI's logic runs nothing.
import { main } from "./run.ts";

process.exitCode = await main(process.argv.slice(2), process.env, {
  stdout: (s) => process.stdout.write(`${s}\n`),
  stderr: (s) => process.stderr.write(`${s}\n`),
});
