import { pino } from "pino";
import type { LogLevel } from "./config.ts";
import { safeError } from "@sluice/db";

export type Logger = pino.Logger;

/**
 * Structured JSON logs to stdout. Secrets are redacted by path as a second line of
 * defence; the first is that handlers never log headers or bodies. Errors are always
 * logged as `err`, whose serializer leaves out the values of a failed statement.
 */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "sluice" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: safeError },
      redact: {
        paths: [
          "token",
          "secret",
          "secrets",
          "*.token",
          "*.secret",
          "*.secrets",
          "headers.authorization",
          "*.headers.authorization",
          "headers.cookie",
          "*.headers.cookie",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
