import type { Collector } from "../events.ts";
import { map } from "./map.ts";
import { deliveryId, verify } from "./verify.ts";

export const cdevents: Collector = { source: "cdevents", verify, deliveryId, map };
