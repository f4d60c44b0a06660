// Host (orchestration) side of Dagster Pipes: what launches an external process and reads it.
export { parseEscapedAssetKey, toEscapedAssetKey } from './asset-key.js';
export {
  encodeBootstrapCliArgs,
  encodeBootstrapEnv,
  type PipesBootstrapEnv,
  type PipesBootstrapParams,
} from './bootstrap.js';
export {
  type BuildPipesContextDataOptions,
  buildPipesContextData,
  type PipesAssetKeyInput,
  resolveContextData,
} from './context-data.js';
export {
  type FileContextInjectionOptions,
  injectContextInEnv,
  injectContextInFile,
  type PipesContextInjection,
  type PipesContextInjectorKind,
} from './context-injection.js';
export { pipesExceptionToError } from './exception.js';
export { FileMessageReader, type FileMessageReaderOptions } from './file-message-reader.js';
export {
  DEFAULT_MAX_LINE_LENGTH,
  type DecodedLine,
  LineDecoder,
  type LineDecoderOptions,
} from './line-decoder.js';
export { fileLineEvent, stdioLineEvent } from './line-events.js';
export { parsePipesMessage, validatePipesMessage } from './parse-message.js';
export type { PipesMessageReader, PipesOutputStream, PipesReaderEvent } from './reader-events.js';
export { openPipesSession, PipesSession } from './session.js';
export type { PipesMessageReaderKind, PipesSessionOptions } from './session-options.js';
export {
  type PipesAssetCheckResult,
  type PipesDiagnosticsSources,
  type PipesExternalStreamChunk,
  type PipesLogLevel,
  type PipesLogRecord,
  type PipesMaterialization,
  type PipesOutputLine,
  type PipesProtocolErrorRecord,
  PipesResultsCollector,
  type PipesSessionResults,
  type PipesSessionWarning,
} from './session-results.js';
export { StdioMessageReader, type StdioMessageReaderOptions } from './stdio-message-reader.js';
