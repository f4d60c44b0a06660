export { isPipesError, PipesError, type PipesErrorCode } from './errors.js';
export * from './host/index.js';
export { PipesFloat, type StringifyJsonOptions, stringifyJson } from './json.js';
export * from './params/encoding.js';
export * from './schemas/context.js';
export * from './schemas/exception.js';
export * from './schemas/message.js';
export * from './schemas/metadata.js';
export * from './worker/index.js';
