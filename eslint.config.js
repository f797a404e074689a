import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test-output/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The demo page's script runs in the browser.
    files: ["demo/public/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { document: "readonly", location: "readonly", WebSocket: "readonly", fetch: "readonly" },
    },
  },
  {
    // Scripts run by Node directly.
    files: ["bench/**/*.mjs"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", setTimeout: "readonly", setImmediate: "readonly" },
    },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
