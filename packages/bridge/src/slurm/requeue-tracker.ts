import { type JobStateChange, jobPhase } from '@slurm-pipes/slurm-transport';

/**
 * Notices when a followed job goes back to the queue after it held an allocation: Slurm requeued
 * it (`scontrol requeue`, `scontrol requeuehold`, preemption with requeue, or a node failure with
 * `JobRequeue=1` / `--requeue`). The job keeps its id and runs again from the start, so the bridge
 * keeps following it: messages the first run already sent were relayed and stay relayed (the
 * relay never takes a line back and never reads one twice), and the rerun's messages follow them
 * in messages.jsonl, which the job appends to; stdout and stderr start over (the tail notices the
 * shrink and follows on from byte 0). I/O-free.
 */
export class RequeueTracker {
  #requeues = 0;
  #wasActive = false;

  /** How many times the job was seen going back to the queue. */
  get requeues(): number {
    return this.#requeues;
  }

  /**
   * Takes the next state change.
   * @returns the line to log when this change is a requeue, else undefined.
   */
  observe(change: JobStateChange): string | undefined {
    const phase = jobPhase(change.state);
    if (phase === 'active') {
      this.#wasActive = true;
      return undefined;
    }
    if (phase !== 'queued' || !this.#wasActive) return undefined;
    this.#wasActive = false;
    this.#requeues += 1;
    const from = change.previousState === undefined ? '' : ` (${change.previousState} → ${change.state})`;
    return (
      `Slurm job ${change.jobId} was requeued${from}, requeue ${this.#requeues}: Slurm runs it again from the start under the same job id, and the bridge keeps following it. ` +
      'Messages its earlier run sent were already relayed and stay; the rerun’s messages follow (a payload that must not repeat work should check what it already did). ' +
      `To stop it instead: scancel ${change.jobId}.`
    );
  }
}
