// scratch: seed a persistent db for profiling
import { createEmptyPostgresDatabase } from "@sluice/db/testing";
const target = await createEmptyPostgresDatabase("postgres://postgres@127.0.0.1:5432/test");
console.log(target.url);
