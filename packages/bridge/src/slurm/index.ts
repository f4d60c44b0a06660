export { type AbortDecision, decideOnAbort } from './cancellation-policy.js';
export { openSlurmTransport, type SlurmTransportOptions, sshConnectionOptions } from './connect-transport.js';
export { type JobOutcome, jobExitCode, jobFailureException } from './job-failure.js';
export { type BashLauncherSpec, buildBashLauncher } from './launchers/bash-launcher.js';
export { addMetadataEntries, type MetadataEntryText, type SplicedLine } from './metadata/metadata-splice.js';
export { type SlurmJobFacts, slurmMetadataEntries } from './metadata/slurm-metadata.js';
export { DEFAULT_REMOTE_BASE, expandRemoteBase } from './remote-base.js';
export { type RunDirKey, type RunDirLayout, runDirLayout } from './run-dir.js';
export {
  type RunSlurmStepOptions,
  runSlurmStep,
  type SlurmStepResult,
  type SlurmStepTimings,
} from './run-slurm-step.js';
export { type RunDirFiles, runDirFiles } from './submit-step.js';
