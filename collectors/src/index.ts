import { alertmanager } from "./alertmanager/index.ts";
import { cdevents } from "./cdevents/index.ts";
import type { Collector, SourceName } from "./events.ts";
import { github } from "./github/index.ts";
import { gitlab } from "./gitlab/index.ts";
import { pagerduty } from "./pagerduty/index.ts";

export * from "./events.ts";
export { toIsoUtc } from "./time.ts";

/** Every source Sluice accepts webhooks from (SPEC 6), by the name used in /webhooks/<source>/... */
export const collectors: Record<SourceName, Collector> = { github, gitlab, pagerduty, alertmanager, cdevents };

/** The collector for a URL's source segment; undefined for unknown names (including "__proto__"). */
export function getCollector(source: string): Collector | undefined {
  return Object.hasOwn(collectors, source) ? collectors[source as SourceName] : undefined;
}
