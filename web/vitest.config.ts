import { defineProject } from "vitest/config";

// Unit tests of the dashboard's plain modules (client, formatters, form logic). The pages
// themselves are tested in a real browser by the e2e project (test/e2e).
export default defineProject({
  test: {
    name: "web",
    include: ["test/**/*.test.ts"],
    environment: "node",
  },
});
