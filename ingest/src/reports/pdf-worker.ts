// The report worker's entry (a worker thread, started by pdf-render.ts): draws reports with
// pdfkit, several at a time, each from the messages of one job. Only this file and what it
// imports at run time (pdf.ts, charts.ts, format.ts: no database, no app) load in the worker.
import { parentPort } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./pdf-render.ts";
import { type ReportDrawing, drawReport } from "./pdf.ts";

const port = parentPort;
if (!port) throw new Error("pdf-worker.ts runs as a worker thread (pdf-render.ts starts it)");

const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const jobs = new Map<number, ReportDrawing>();

/**
 * pdfkit writes a page as many small chunks: they are gathered and sent as one message per
 * turn of this thread's loop, in a buffer of their own that is moved, not copied.
 */
function output(job: number) {
  let pending: Uint8Array[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const bytes = new Uint8Array(pending.reduce((sum, chunk) => sum + chunk.byteLength, 0));
    let offset = 0;
    for (const chunk of pending) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    pending = [];
    post({ type: "bytes", job, bytes }, [bytes.buffer]);
  };
  return {
    write(chunk: Uint8Array) {
      pending.push(chunk);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    done() {
      flush();
      post({ type: "done", job });
    },
  };
}

port.on("message", (message: ToWorker) => {
  const { job } = message;
  try {
    switch (message.type) {
      case "start":
        jobs.set(job, drawReport(message.header, output(job)));
        break;
      case "section":
        jobs.get(job)?.addSection(message.section);
        post({ type: "page", job });
        break;
      case "end":
        jobs.get(job)?.end({ failed: message.failed });
        jobs.delete(job);
        break;
      case "cancel":
        jobs.delete(job);
        break;
    }
  } catch (error) {
    jobs.delete(job);
    post({ type: "error", job, message: error instanceof Error ? error.message : String(error) });
  }
});
