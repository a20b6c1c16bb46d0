import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { MAX_MATCHED_LENGTH, matchesPattern, patternProblem } from "../src/patterns.ts";

describe("matchesPattern", () => {
  afterEach(() => vi.restoreAllMocks());

  test("is case-insensitive and finds the pattern anywhere, as RegExp(pattern, 'i').test did", () => {
    expect(matchesPattern("^(prod|production)$", "Production")).toBe(true);
    expect(matchesPattern("^(prod|production)$", "PROD")).toBe(true);
    expect(matchesPattern("^(prod|production)$", "production-eu")).toBe(false);
    expect(matchesPattern("deploy", "Deploy to production")).toBe(true);
    expect(matchesPattern("deploy", "build")).toBe(false);
    expect(matchesPattern("^prod-\\d+$", "PROD-42")).toBe(true);
  });

  test("patterns RE2 cannot run are refused with RE2's reason", () => {
    expect(patternProblem("^(prod|production)$")).toBeNull();
    expect(patternProblem("^(a)\\1$")).toBe("invalid escape sequence: `\\1`");
    expect(patternProblem("^prod(?!-eu)")).toBe("invalid or unsupported Perl syntax: `(?!`");
    expect(patternProblem("(?<=x)y")).not.toBeNull();
    expect(patternProblem("(")).not.toBeNull();
  });

  test("a stored pattern RE2 cannot compile matches nothing, and says so once", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const stored = "^prod(?=uction)";
    expect(matchesPattern(stored, "production")).toBe(false);
    expect(matchesPattern(stored, "prod")).toBe(false);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain(JSON.stringify(stored));
  });

  test("a text longer than the limit matches nothing", () => {
    expect(matchesPattern("a", "a".repeat(MAX_MATCHED_LENGTH))).toBe(true);
    expect(matchesPattern("a", "a".repeat(MAX_MATCHED_LENGTH + 1))).toBe(false);
  });

  test("takes linear time where a backtracking engine takes hours (in a worker, so a regression cannot hang the run)", async () => {
    const source = `
      import { parentPort, workerData } from "node:worker_threads";
      const { matchesPattern } = await import(workerData.module);
      const started = performance.now();
      const results = [
        matchesPattern("^(\\\\w+\\\\s?)*$", "a".repeat(39) + "!"),
        matchesPattern("^(\\\\w+\\\\s?)*$", "a".repeat(${MAX_MATCHED_LENGTH - 1}) + "!"),
        matchesPattern("^(a|aa)+$", "a".repeat(${MAX_MATCHED_LENGTH - 1}) + "b"),
        matchesPattern("^(\\\\w+\\\\s?)*$", "aaaa aaaa"),
      ];
      parentPort.postMessage({ results, ms: performance.now() - started });`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
      workerData: { module: new URL("../src/patterns.ts", import.meta.url).href },
    });
    try {
      const answer = await new Promise<{ results: boolean[]; ms: number } | "timed out">((resolve, reject) => {
        const timer = setTimeout(() => resolve("timed out"), 20_000);
        worker.once("message", (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        worker.once("error", reject);
      });
      expect(answer).not.toBe("timed out");
      if (answer === "timed out") return;
      expect(answer.results).toEqual([false, false, false, true]);
      expect(answer.ms).toBeLessThan(2000);
    } finally {
      await worker.terminate();
    }
  });

  test("agrees with JavaScript's RegExp on simple patterns (property)", () => {
    const char = fc.constantFrom(..."abcxyzABZ019-_");
    const atom = fc.oneof(
      char.map((c) => (c === "-" ? "\\-" : c)),
      fc.constantFrom(".", "\\d", "\\w", "[a-c]", "[^x]", "[0-9a-f]", "\\.", "\\s"),
    );
    const quantified = fc.tuple(atom, fc.constantFrom("", "", "?", "*", "+", "{2}", "{1,3}")).map(([a, q]) => a + q);
    const sequence = fc.array(quantified, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(""));
    const pattern = fc
      .tuple(
        fc.boolean(),
        fc.array(sequence, { minLength: 1, maxLength: 3 }).map((alternatives) => (alternatives.length > 1 ? `(${alternatives.join("|")})` : alternatives[0])),
        fc.boolean(),
      )
      .map(([start, body, end]) => `${start ? "^" : ""}${body}${end ? "$" : ""}`);
    const text = fc.string({ unit: fc.constantFrom(..."abcxyzABCXYZ0129-_. "), maxLength: 20 });
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(matchesPattern(p, t)).toBe(new RegExp(p, "i").test(t));
      }),
      { numRuns: 2000 },
    );
  });
});
