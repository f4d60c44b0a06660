export { resolveAssetKey, toAssetKeyPath } from './asset-key.js';
export {
  isDagsterPipesProcess,
  loadPipesBootstrap,
  type PipesBootstrap,
  type PipesBootstrapOptions,
} from './bootstrap.js';
export type { PipesMessageChannel, PipesMessageChannelKind } from './channels/message-channel.js';
export { type MessageWriterChannelOptions, openMessageWriterChannel } from './channels/open-channel.js';
export {
  type PipesStdioStream,
  type StdioCapture,
  type StdioCaptureOptions,
  startStdioCapture,
} from './channels/stdio-capture.js';
export { PipesContextDataView } from './context/context-data-view.js';
export {
  createPipesLogger,
  normalizeLogLevel,
  type PipesLogger,
  type PipesWorkerLogLevel,
  type PipesWorkerLogLevelInput,
} from './context/logger.js';
export {
  type PipesAssetCheckSeverity,
  PipesContext,
  type PipesContextInit,
  type ReportAssetCheckOptions,
  type ReportAssetMaterializationOptions,
} from './context/pipes-context.js';
export { type ClosableContext, installProcessHooks, PIPES_EXIT_SIGNALS } from './context/process-hooks.js';
export {
  DEFAULT_TIMEOUT_SIGNAL,
  onTimeoutSignal,
  type ResolvedTimeoutSignal,
  resolveTimeoutSignal,
  TIMEOUT_SIGNAL_ENV,
  TIMEOUT_SIGNAL_SECONDS_ENV,
  type TimeoutSignalHandler,
  type TimeoutSignalInfo,
  type TimeoutSignalOptions,
} from './context/timeout-signal.js';
export { type LoadContextDataOptions, type LoadedContextData, loadContextData } from './context-loader.js';
export { toPipesException } from './exception.js';
export { makePipesMessage, type PipesOutgoingMessage } from './message.js';
export {
  PipesMetadataValues,
  type PipesTableCell,
  type PipesTableColumn,
  type PipesTableColumnDep,
} from './metadata/metadata-values.js';
export {
  type NormalizedMetadataValue,
  normalizeMetadata,
  type PipesMetadataEntry,
  type PipesMetadataInput,
  type PipesMetadataRawValue,
} from './metadata/normalize-metadata.js';
export {
  createPipesContext,
  getPipesContext,
  isPipesContextInitialized,
  type OpenDagsterPipesOptions,
  ORCHESTRATION_INACTIVE_WARNING,
  openDagsterPipes,
  runDagsterPipes,
} from './open-dagster-pipes.js';
export {
  createCliArgsParamsLoader,
  createDefaultParamsLoader,
  createEnvParamsLoader,
  type DefaultParamsLoaderOptions,
  type PipesParamsLoader,
  type PipesRawParams,
} from './params-loader.js';
