import type { Collector } from "../events.ts";
import { map } from "./map.ts";
import { deliveryId, verify } from "./verify.ts";

export const pagerduty: Collector = { source: "pagerduty", verify, deliveryId, map };
