import type { Collector } from "../events.ts";
import { jsonBody, map } from "./map.ts";
import { deliveryId, verify } from "./verify.ts";

export const github: Collector = { source: "github", verify, deliveryId, map, payloadText: jsonBody };
