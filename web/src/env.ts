import { defineEnvVars } from "@sveltejs/kit/env";

/**
 * Read when the Sluice process starts (the dashboard runs inside it): where the dashboard's
 * server-side loads reach the HTTP API. By default the API of this same process, over loopback.
 */
export const variables = defineEnvVars({
  SLUICE_API_URL: {
    description: "Base URL of the Sluice API the dashboard reads (default: this process over loopback)",
    schema: (value) => {
      if (value === undefined || value.trim() === "") return undefined;
      const url = new URL(value.trim());
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("SLUICE_API_URL must be an http(s) URL");
      return url.toString().replace(/\/+$/, "");
    },
  },
  PORT: {
    description: "The port Sluice listens on",
    schema: (value) => {
      if (value === undefined || value.trim() === "") return 3000;
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error("PORT must be an integer port");
      return port;
    },
  },
  HOST: {
    description: "The address Sluice binds",
    schema: (value) => (value === undefined || value.trim() === "" ? undefined : value.trim()),
  },
});
