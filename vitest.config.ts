import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["db", "collectors", "test"],
    // Database tests each open their own database; keep parallelism at the core count.
    maxWorkers: 2,
  },
});
