import { describe, expect, test } from "vitest";
import { commitOfArtifact, deployedRef } from "../src/cdevents/artifact.ts";
import { environmentFromName } from "../src/environment.ts";
import { branchFromRef, isCommitSha, pushParents, touchedFiles } from "../src/git.ts";
import { severityFromLabels } from "../src/github/issues.ts";

describe("environment guessed from a workflow or pipeline name", () => {
  test.each([
    ["Deploy", "production"],
    ["deploy.yml", "production"],
    ["Deploy to Staging", "staging"],
    ["deploy-stage", "staging"],
    ["deploy_staging", "staging"],
    ["Deploy (dev)", "development"],
    ["Development deploy", "development"],
    ["QA deploy", "qa"],
    ["deploy test", "test"],
    ["Preview deployment", "preview"],
    ["Sandbox Deploy", "sandbox"],
    ["Promote staging to production", "production"],
    ["deploy prod", "production"],
  ])("%s -> %s", (name, environment) => {
    expect(environmentFromName(name)).toBe(environment);
  });

  test.each(["stagecoach deploy", "run tests and deploy", "developer deploy", "deploy constructor"])(
    "only whole words count: %s is production",
    (name) => {
      expect(environmentFromName(name)).toBe("production");
    },
  );
});

describe("git helpers", () => {
  test("a push's parents chain its commits and start at `before`", () => {
    expect(pushParents(["b", "c", "d"], "a")).toEqual([["a"], ["b"], ["c"]]);
  });

  test("a branch created by the push gives its first commit no known parent", () => {
    expect(pushParents(["b", "c"], "0000000000000000000000000000000000000000")).toEqual([undefined, ["b"]]);
  });

  test("branches come from refs/heads only", () => {
    expect(branchFromRef("refs/heads/feature/login")).toBe("feature/login");
    expect(branchFromRef("refs/tags/v1.0.0")).toBeUndefined();
    expect(branchFromRef(undefined)).toBeUndefined();
  });

  test("files touched are listed once", () => {
    expect(touchedFiles(["a", "b"], ["b", "c"], null, ["a"])).toEqual(["a", "b", "c"]);
  });

  test("commit shas are full SHA-1 or SHA-256 ids", () => {
    expect(isCommitSha("6113728f27ae82c7b1a177c8d03f9e96e0adf246")).toBe(true);
    expect(isCommitSha("a".repeat(64))).toBe(true);
    expect(isCommitSha("6113728")).toBe(false);
    expect(isCommitSha("mySubject123")).toBe(false);
  });
});

describe("the commit a CDEvents artifactId names", () => {
  const sha = "47efb7196c2a1a2fd3f52f2c59f0e2dd3d0e4d54";

  test.each([
    [`pkg:github/octo/checkout@${sha}`],
    [`pkg:git/github.com/octo/checkout@${sha}`],
    [`pkg:gitlab/group/project@${sha.toUpperCase()}`],
    [`pkg:oci/checkout@sha256%3Aabc?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Focto%2Fcheckout%40${sha}`],
  ])("%s names the commit", (artifactId) => {
    expect(commitOfArtifact(artifactId)).toBe(sha);
  });

  test.each([
    ["an OCI image digest", "pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427"],
    ["a tag", "pkg:github/octo/checkout@v1.2.3"],
    ["not a package URL", "checkout:v1.2.3"],
  ])("%s names no commit", (_what, artifactId) => {
    expect(commitOfArtifact(artifactId)).toBeUndefined();
    expect(deployedRef(artifactId)).toBe(artifactId);
  });
});

describe("severity from GitHub labels", () => {
  test.each([
    [["incident", "severity:high"], "high"],
    [["Severity: Critical"], "critical"],
    [["severity/low"], "low"],
    [["sev1"], "sev1"],
    [["SEV-2"], "sev2"],
    [["incident", "bug"], undefined],
  ])("%j -> %s", (labels, severity) => {
    expect(severityFromLabels(labels)).toBe(severity);
  });
});
