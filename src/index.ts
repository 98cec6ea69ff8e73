/**
 * The public API. A `flusso.config.ts` imports the config builders; an application
 * embeds the sync with `Flusso.run` (or `Engine.run` over its own layers for any of the
 * ports), and reads how it goes from `Status`.
 */
export { defineConfig, defineIndex, env, t } from "./config/define.js"
export type { DocumentOf } from "./config/define.js"
export { loadConfig } from "./config/load.js"
export { resolveConfig } from "./config/resolve.js"
export type { ResolvedConfig } from "./config/ResolvedConfig.js"
export * as Flusso from "./Flusso.js"
export * as Engine from "./engine/Engine.js"
export * as EngineCommand from "./engine/EngineCommand.js"
export { ChangeSource } from "./source/ChangeSource.js"
export { DocumentBuilder } from "./source/DocumentBuilder.js"
export { Sink } from "./sink/Sink.js"
export { CheckpointStore } from "./checkpoint/CheckpointStore.js"
export * as Quarantine from "./quarantine/Quarantine.js"
export * as Status from "./status/Status.js"
export * from "./errors.js"
