import { type ParseArgsConfig, parseArgs } from "node:util";
import { CliError } from "./client.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs with every command's --help, and mistakes reported as usage errors (exit 3). */
export function parse<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    const parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
    return { ...parsed, help: (parsed.values as Record<string, unknown>).help === true };
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${usage}`);
  }
}

export function required(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.trim() === "") throw new CliError(`--${name} is required\n\n${usage}`);
  return value.trim();
}

export const optional = (values: Record<string, unknown>, name: string): string | undefined => {
  const value = values[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
};

/** A time flag: ISO-8601 as given, "now" by default where the command says so. */
export function isoTime(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (value === "now") return new Date().toISOString();
  if (Number.isNaN(Date.parse(value)) || !/^\d{4}-\d{2}-\d{2}T/.test(value)) {
    throw new CliError(`--${name} must be an ISO-8601 date-time like 2026-06-15T12:00:00Z`);
  }
  return value;
}
