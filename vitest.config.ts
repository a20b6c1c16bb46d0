import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["db", "collectors", "test", "web", "test/e2e"],
    // Database tests each open their own database; keep parallelism at the core count.
    maxWorkers: 2,
  },
});
