/**
 * The environment a CI pipeline deployed to, guessed from its name (GitHub workflow runs, CDEvents
 * pipeline runs), since those events do not say. Rules, in order:
 * 1. a whole word `prod` or `production` means production ("Promote staging to production");
 * 2. else the first whole word naming another environment wins, case-insensitively:
 *    staging|stage -> staging, dev|development -> development, qa, test, preview, sandbox;
 * 3. else production: a workflow that deploys and names no environment usually deploys production.
 * "Whole word" treats anything but letters and digits as a separator, so `deploy-staging`,
 * `deploy_staging` and `Deploy (staging)` all name staging, while `stagecoach` and `tests` do not.
 */

const ENVIRONMENT_WORDS = new Map([
  ["staging", "staging"],
  ["stage", "staging"],
  ["dev", "development"],
  ["development", "development"],
  ["qa", "qa"],
  ["test", "test"],
  ["preview", "preview"],
  ["sandbox", "sandbox"],
]);

export function environmentFromName(name: string): string {
  const words = name.toLowerCase().split(/[^a-z0-9]+/);
  if (words.includes("prod") || words.includes("production")) return "production";
  for (const word of words) {
    const environment = ENVIRONMENT_WORDS.get(word);
    if (environment) return environment;
  }
  return "production";
}
