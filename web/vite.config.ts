import adapter from "@sveltejs/adapter-node";
import { sveltekit } from "@sveltejs/kit/vite";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [
    sveltekit({
      // build/handler.js is mounted into the one Sluice process by ingest/src/server.ts.
      adapter: adapter({ out: "build" }),
      compilerOptions: { runes: true },
      // Scripts only from this origin (SvelteKit adds a nonce to its own inline script). Styles
      // also allow inline style attributes: SvelteKit's route announcer carries one.
      csp: {
        mode: "auto",
        directives: {
          "default-src": ["self"],
          "script-src": ["self"],
          "style-src": ["self", "unsafe-inline"],
          "img-src": ["self", "data:"],
          "connect-src": ["self"],
          "form-action": ["self"],
          "frame-ancestors": ["none"],
          "base-uri": ["self"],
          "object-src": ["none"],
        },
      },
    }),
  ],
});
