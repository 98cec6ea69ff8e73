/** The public API a `flusso.config.ts` imports. */
export { defineConfig, defineIndex, env, t } from "./config/define.js"
export type { DocumentOf } from "./config/define.js"
