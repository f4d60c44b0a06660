/** What a pending job's reason (`squeue --format=%r`) means, and whether it can ever start. */
export interface PendingReasonDescription {
  /** The reason as Slurm printed it, e.g. `Resources`. */
  readonly reason: string;
  /** One sentence for humans. */
  readonly meaning: string;
  /** What to do, when waiting alone will not help or may take long. */
  readonly fix: string | undefined;
  /**
   * True when the job will not start unless something changes (a hold, a request no node or
   * limit can satisfy); waiting is pointless and the caller may want to cancel or fix it.
   */
  readonly blocked: boolean;
}

type Entry = readonly [meaning: string, fix: string | undefined, blocked: boolean];

const REASONS: Readonly<Record<string, Entry>> = {
  Resources: ['Waiting for nodes with enough free CPUs, memory or GPUs.', undefined, false],
  Priority: ['Other jobs with higher priority are ahead in the queue.', undefined, false],
  Dependency: ['Waiting for the jobs it depends on to finish.', undefined, false],
  DependencyNeverSatisfied: [
    'A job it depends on ended in a way that can never satisfy the dependency.',
    'Cancel the job and resubmit once its dependencies succeed.',
    true,
  ],
  BeginTime: [
    'Its --begin time has not been reached yet (a requeued job waits about 2 minutes before it may run again).',
    undefined,
    false,
  ],
  JobHeldUser: ['Held by its owner.', 'Release it with `scontrol release <id>`.', true],
  JobHeldAdmin: ['Held by an administrator.', 'Ask the cluster administrators to release it.', true],
  ReqNodeNotAvail: [
    'A node it needs is down, drained or reserved.',
    'Wait for the node, or drop the node-specific request (nodelist/constraint) if it has one.',
    false,
  ],
  PartitionTimeLimit: [
    'Its time limit is longer than the partition allows, so it will never start.',
    'Lower time_limit below the partition’s MaxTime (`sinfo -o "%P %l"`), or pick another partition.',
    true,
  ],
  PartitionNodeLimit: [
    'It asks for more nodes than the partition allows, so it will never start.',
    'Lower nodes, or pick a partition with more nodes (`sinfo -s`).',
    true,
  ],
  PartitionDown: ['Its partition is down.', 'Wait for the administrators, or pick another partition.', false],
  PartitionInactive: [
    'Its partition is inactive and starts no jobs.',
    'Pick another partition (`sinfo -s`).',
    true,
  ],
  PartitionConfig: [
    'The request does not fit the partition’s configuration (e.g. GPUs on a CPU-only partition).',
    'Pick a partition that offers what the job asks for, or lower the request.',
    true,
  ],
  BadConstraints: [
    'No node satisfies its constraints (features, memory, CPUs or GPUs per node).',
    'Lower cpus/mem/gpus_per_node or fix constraint; `sinfo -o "%P %c %m %G %f"` lists what nodes offer.',
    true,
  ],
  InvalidAccount: [
    'Its account is invalid or not allowed here.',
    'Set account to one you belong to (`sacctmgr show assoc user=$USER`).',
    true,
  ],
  InvalidQOS: ['Its QOS is invalid or not allowed here.', 'Set qos to one your association allows.', true],
  Reservation: ['Waiting for its advanced reservation to start.', undefined, false],
  ReqNodeNotAvail_Reserved: ['The nodes it needs are reserved for someone else.', undefined, false],
  NodeDown: ['A node it needs is down.', undefined, false],
  Cleaning: ['Its previous run is still being cleaned up before it can run again.', undefined, false],
  JobArrayTaskLimit: ['The array’s limit on concurrently running tasks is reached.', undefined, false],
  'job requeued in held state': [
    'The job was requeued (`scontrol requeuehold`, or a node failure with a held requeue) and is held: it will not run again by itself.',
    'Release it with `scontrol release <id>` to let it run again, or cancel it with `scancel <id>`.',
    true,
  ],
  'Requeued held': [
    'The job was requeued and is held: it will not run again by itself.',
    'Release it with `scontrol release <id>` to let it run again, or cancel it with `scancel <id>`.',
    true,
  ],
  'launch failed requeued held': [
    'Launching the job failed; Slurm requeued it and holds it.',
    'Check the node and the job script, then `scontrol release <id>`.',
    true,
  ],
};

/**
 * Explains a pending reason (`Resources`, `Priority`, `QOSMaxJobsPerUserLimit`, …). Limits of QOS
 * and associations (`QOS…Limit`, `Assoc…Limit`) are explained generically: `…Max…PerUser`/`Grp…`
 * limits clear as other jobs finish, per-job ones (`…PerJob…`, `…MaxWall…`) never do.
 */
export function describePendingReason(reason: string): PendingReasonDescription {
  const entry = REASONS[reason];
  if (entry) {
    const [meaning, fix, blocked] = entry;
    return { reason, meaning, fix, blocked };
  }
  if (/^(QOS|Assoc)\w*Limit$/.test(reason)) {
    const owner = reason.startsWith('QOS') ? 'its QOS' : 'its association (account/user)';
    if (/PerJob|MinTRES|MaxWall/.test(reason)) {
      return {
        reason,
        meaning: `The job itself exceeds a per-job limit of ${owner} (${reason}), so it will never start.`,
        fix: 'Lower time_limit, nodes, cpus, mem or gpus_per_node, or use another qos/account; `sacctmgr show qos` lists the limits.',
        blocked: true,
      };
    }
    return {
      reason,
      meaning: `A limit of ${owner} is reached (${reason}); it starts when other jobs using that limit finish.`,
      fix: 'Wait, or use another qos/account; `sacctmgr show qos` and `sacctmgr show assoc user=$USER` list the limits.',
      blocked: false,
    };
  }
  return { reason, meaning: `Pending: ${reason}.`, fix: undefined, blocked: false };
}
