import { defineProject } from "vitest/config";

/**
 * End-to-end: a real Sluice process (API + dashboard on one port) driven through Debian's
 * Chromium with playwright-core. Files run one after another: each starts its own server.
 */
export default defineProject({
  test: {
    name: "e2e",
    include: ["**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    // The first run may build the dashboard (tens of seconds) before the server starts.
    hookTimeout: 240_000,
  },
});
