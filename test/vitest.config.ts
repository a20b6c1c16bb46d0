import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "api",
    include: ["api/**/*.test.ts", "integration/**/*.test.ts", "cli/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
