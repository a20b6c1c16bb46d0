import { describe, expect, test } from "vitest";
import { collectors, getCollector } from "../src/index.ts";

describe("collector registry", () => {
  test("has one collector per source of SPEC 6, each named by its source", () => {
    expect(Object.keys(collectors).sort()).toEqual(["alertmanager", "cdevents", "github", "gitlab", "pagerduty"]);
    for (const [name, collector] of Object.entries(collectors)) expect(collector.source).toBe(name);
  });

  test("finds a collector by the URL's source segment", () => {
    expect(getCollector("gitlab")).toBe(collectors.gitlab);
  });

  test.each(["bitbucket", "", "GitHub", "__proto__", "constructor", "toString"])("knows no source %j", (name) => {
    expect(getCollector(name)).toBeUndefined();
  });
});
