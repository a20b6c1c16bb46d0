import { Readable } from "node:stream";
import { Worker } from "node:worker_threads";
import type { ReportHeader } from "./pdf.ts";
import type { Section } from "./sections.ts";

/** Messages to the report worker (pdf-worker.ts): one job is start, sections, then end or cancel. */
export type ToWorker =
  | { type: "start"; job: number; header: ReportHeader }
  | { type: "section"; job: number; section: Section }
  | { type: "end"; job: number; failed: boolean }
  | { type: "cancel"; job: number };

/** Its answers: a page is drawn; the document's next bytes; it is complete; it failed. */
export type FromWorker =
  | { type: "page"; job: number }
  | { type: "bytes"; job: number; bytes: Uint8Array }
  | { type: "done"; job: number }
  | { type: "error"; job: number; message: string };

// Drawing a page takes a few milliseconds of CPU: a thousand-group report is seconds of it,
// which on the request thread would stall every other request (SPEC 10: no request holds the
// event loop over 100 ms). Two workers, started on first use, serve every report of the process.
const POOL_SIZE = 2;
/** A worker owing a page or the document's end that says nothing for this long is stuck: it is ended. */
const RENDER_TIMEOUT_MS = 30_000;
/** A worker with no report for this long is ended (its memory freed); the next report starts one. */
const IDLE_MS = 60_000;
/** Sections sent to the worker and not drawn yet: computing runs at most this far ahead. */
const AHEAD = 8;
const WORKER_URL = new URL("./pdf-worker.ts", import.meta.url);

interface Job {
  onMessage(message: FromWorker): void;
  fail(error: Error): void;
}

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, Job>;
  idle?: NodeJS.Timeout;
}

// One pool per process, like libuv's thread pool: workers are a resource of the process, not of
// one app; unref'd when idle, so they never keep a process alive.
const pool: PoolWorker[] = [];
let nextJob = 1;

/** Out of the pool first (no new report picks it), then stopped. */
function retire(entry: PoolWorker) {
  const at = pool.indexOf(entry);
  if (at >= 0) pool.splice(at, 1);
  clearTimeout(entry.idle);
  void entry.worker.terminate();
}

function spawn(): PoolWorker {
  const entry: PoolWorker = { worker: new Worker(WORKER_URL, { name: "sluice-report-pdf" }), jobs: new Map() };
  entry.worker.unref();
  entry.worker.on("message", (message: FromWorker) => entry.jobs.get(message.job)?.onMessage(message));
  const fail = (error: Error) => {
    retire(entry);
    for (const job of [...entry.jobs.values()]) job.fail(error);
    entry.jobs.clear();
  };
  entry.worker.on("error", (error) => fail(error));
  entry.worker.on("exit", (code) => fail(new Error(`the report worker stopped (exit code ${code})`)));
  pool.push(entry);
  return entry;
}

/** The worker with the fewest reports; a new one while the pool is not full and all are busy. */
function acquire(): PoolWorker {
  const least = pool.reduce<PoolWorker | undefined>((best, entry) => (!best || entry.jobs.size < best.jobs.size ? entry : best), undefined);
  const entry = !least || (least.jobs.size > 0 && pool.length < POOL_SIZE) ? spawn() : least;
  clearTimeout(entry.idle);
  entry.worker.ref();
  return entry;
}

function release(entry: PoolWorker, job: number) {
  entry.jobs.delete(job);
  if (entry.jobs.size > 0) return;
  entry.worker.unref();
  entry.idle = setTimeout(() => {
    if (entry.jobs.size === 0) retire(entry);
  }, IDLE_MS);
  entry.idle.unref();
}

/**
 * The PDF report as a stream: the sections are computed here (the database is on this thread)
 * and drawn in a worker, which sends the document's bytes back as it writes them. Backpressure
 * holds: the next section is computed only when the reader wants more and the worker is at
 * most AHEAD pages behind. A reader that goes away cancels the job. A failure while computing
 * ends the document with a page saying so (and `onError`); a worker that fails or stops
 * answering ends the stream with an error.
 */
export function renderReportPdf(options: {
  header: ReportHeader;
  sections: AsyncIterable<Section>;
  onError: (error: unknown) => void;
}): Readable {
  const entry = acquire();
  const job = nextJob++;
  let outstanding = 0;
  let finished = false;
  let cancelled = false;
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const resume = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };

  // Armed while the worker owes an answer; a stuck worker is ended, which fails its jobs.
  const watch = () => {
    clearTimeout(timer);
    timer = outstanding > 0 ? setTimeout(() => stuck(), RENDER_TIMEOUT_MS) : undefined;
  };
  const stuck = () => {
    // This job fails with why (once: it leaves the worker's jobs); the worker's others fail as it exits.
    entry.jobs.get(job)?.fail(new Error(`the report worker drew nothing for ${RENDER_TIMEOUT_MS / 1000} s; it was stopped`));
    retire(entry);
  };
  const finish = () => {
    finished = true;
    clearTimeout(timer);
    release(entry, job);
    resume();
  };

  const stream = new Readable({
    read: resume,
    destroy(error, callback) {
      if (!finished) {
        cancelled = true;
        entry.worker.postMessage({ type: "cancel", job } satisfies ToWorker);
        finish();
      }
      callback(error);
    },
  });

  entry.jobs.set(job, {
    onMessage(message) {
      switch (message.type) {
        case "page":
          outstanding--;
          watch();
          resume();
          break;
        case "bytes":
          watch();
          stream.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
          break;
        case "done":
          outstanding = 0;
          finish();
          stream.push(null);
          break;
        case "error": {
          const error = new Error(`the report could not be drawn: ${message.message}`);
          options.onError(error);
          finish();
          stream.destroy(error);
          break;
        }
      }
    },
    fail(error) {
      if (finished) return;
      options.onError(error);
      finish();
      stream.destroy(error);
    },
  });

  const send = (message: ToWorker) => {
    if (message.type !== "start" && message.type !== "cancel") outstanding++;
    entry.worker.postMessage(message);
    watch();
  };
  // Waits until the reader wants more and the worker has caught up; false once there is no reader.
  const ready = async () => {
    while (!finished && (outstanding >= AHEAD || stream.readableLength >= stream.readableHighWaterMark)) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    return !finished;
  };

  send({ type: "start", job, header: options.header });
  void (async () => {
    let failed = false;
    try {
      for await (const section of options.sections) {
        if (!(await ready())) return;
        send({ type: "section", job, section });
      }
    } catch (error) {
      // A job the worker already failed has reported its error.
      if (cancelled || finished) return;
      options.onError(error);
      failed = true;
    }
    if (!finished) send({ type: "end", job, failed });
  })();
  return stream;
}
