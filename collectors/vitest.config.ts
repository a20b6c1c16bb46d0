import { defineProject } from "vitest/config";

export default defineProject({
  test: { name: "collectors", include: ["test/**/*.test.ts"] },
});
