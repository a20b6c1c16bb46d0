// The open loop behind paced loads (harness.ts `load` with a rate), run as a worker thread:
// request i is due at start + i/rate whatever happened to the others, over at most `connections`
// keep-alive connections (a due request waits for a free one). Its latency runs from when it was
// due to its last byte, so a slow server is charged for the requests it kept waiting (no
// coordinated omission).
import { Agent, request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import type { LoadResult, Request } from "./harness.ts";

interface Job {
  url: string;
  connections: number;
  rate: number;
  requests: Request[];
}

async function openLoop(job: Job): Promise<Omit<LoadResult, "name">> {
  const target = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.connections });
  const interval = 1000 / job.rate;
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  const send = (built: Request, due: number) =>
    new Promise<void>((resolve) => {
      const body = built.body === undefined ? undefined : Buffer.from(built.body);
      const call = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          agent,
          method: built.method ?? "GET",
          path: built.path,
          headers: { ...built.headers, ...(body ? { "content-length": String(body.length) } : {}) },
        },
        (response) => {
          response.resume();
          response.on("end", () => {
            latencies.push(performance.now() - due);
            const status = response.statusCode ?? 0;
            if (status < 200 || status > 299) non2xx++;
            resolve();
          });
        },
      );
      call.on("error", () => {
        errors++;
        resolve();
      });
      call.end(body);
    });
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  for (const [i, request] of job.requests.entries()) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(send(request, due));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50: quantile(0.5),
    p99: quantile(0.99),
    errors,
    non2xx,
    total: latencies.length,
  };
}

parentPort?.postMessage(await openLoop(workerData as Job));
