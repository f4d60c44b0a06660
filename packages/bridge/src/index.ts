export { parseRunArgs, type RunArgs } from './cli/run-args.js';
export { envLayers } from './config/env-layer.js';
export { type ConfigLayer, resolveConfig } from './config/load-config.js';
export { BridgeConfig, type BridgeConfigInput, SlurmConfig, SshConfig } from './config/schema.js';
export { BridgeError, type BridgeErrorCode } from './errors.js';
export { type LocalLaunchOptions, launchLocalPayload, type PayloadExit } from './local/local-launcher.js';
export { type PayloadCommand, type PayloadKind, resolvePayloadCommand } from './payload/payload-command.js';
export { type RunIo, runCommand, runConfig } from './run/run-command.js';
