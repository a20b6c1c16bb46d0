import { RE2JS } from "re2js";

/**
 * The one way to match a pattern a user supplied: a service's production_pattern (which
 * environments are production) and deployment_pattern (which CI workflows deploy). Patterns are
 * RE2 syntax, run by re2js (a pure JavaScript port of RE2), so matching takes time linear in the
 * text whatever the pattern (SPEC 7 v2): JavaScript's backtracking RegExp spends seconds, doubling
 * with each character, on `^(\w+\s?)*$` against forty characters. RE2 has no backreferences and no
 * lookarounds; the rest of the everyday syntax is the same. Matching is case-insensitive and finds
 * the pattern anywhere in the text, as `new RegExp(pattern, "i").test(text)` did.
 */

/**
 * A text longer than this matches no pattern. Linear time is still a product of the text's length
 * and the pattern's size: this keeps the largest pattern (500 characters) against any text to
 * milliseconds. Environment and workflow names are far shorter.
 */
export const MAX_MATCHED_LENGTH = 1000;

/**
 * Compiled patterns, kept in two generations: a lookup is one or two Map reads, and when the young
 * generation is full it becomes the old one, so what was used since survives. Services mostly
 * keep the default patterns, and a large pattern compiles to a large program.
 */
const GENERATION = 128;
let young = new Map<string, RE2JS | Error>();
let old = new Map<string, RE2JS | Error>();

function compiled(pattern: string): RE2JS | Error {
  let found = young.get(pattern) ?? old.get(pattern);
  if (found === undefined) {
    try {
      found = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    } catch (error) {
      found = error instanceof Error ? error : new Error(String(error));
      // Only a pattern stored before patterns were RE2 gets here (they are checked when saved).
      process.emitWarning(
        `the pattern ${JSON.stringify(pattern)} is not RE2 syntax (${found.message}), so it matches nothing; save the service with an RE2 pattern`,
        { code: "SLUICE_PATTERN" },
      );
    }
  }
  if (!young.has(pattern)) {
    if (young.size >= GENERATION) [old, young] = [young, new Map()];
    young.set(pattern, found);
  }
  return found;
}

/** Why `pattern` cannot be used (RE2's own words, e.g. "invalid escape sequence: `\1`"), or null when it can. */
export function patternProblem(pattern: string): string | null {
  try {
    RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^error parsing regexp: /, "");
  }
}

/**
 * Whether `text` matches `pattern`, case-insensitively, anywhere in the text. A stored pattern
 * that RE2 cannot compile (saved before patterns were RE2, when JavaScript accepted it) matches
 * nothing, and Node prints a warning naming it once: no production deployments, no deployment
 * workflows, until it is changed; nothing else is blocked.
 */
export function matchesPattern(pattern: string, text: string): boolean {
  if (text.length > MAX_MATCHED_LENGTH) return false;
  const regex = compiled(pattern);
  return !(regex instanceof Error) && regex.test(text);
}
