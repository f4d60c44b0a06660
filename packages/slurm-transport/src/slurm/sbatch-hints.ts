// What to change when sbatch rejects a job, keyed by its error text (Slurm 22.05 wording).
// Key names are those of SlurmQueueConfig / extra_slurm_opts.
export const SBATCH_HINTS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /invalid partition specified|invalid partition name/i,
    'Set partition to one that `sinfo --summarize` lists on the login node, or leave it empty for the cluster’s default partition.',
  ],
  [
    /Requested node configuration is not available/i,
    'No node in the partition has what one node of the job asks for. Lower cpus, mem/mem_per_cpu or gpus_per_node, drop or fix constraint, or pick another partition; `sinfo -o "%P %c %m %G %f"` lists CPUs, memory (MB), GPUs and features per partition.',
  ],
  [
    /Job violates accounting\/QOS policy/i,
    'The job exceeds a limit of your QOS or association (e.g. MaxWall, MaxTRES, MaxSubmitJobs) or the account may not use the partition. Lower time_limit, nodes, cpus, mem or gpus_per_node, or use another qos/account; `sacctmgr show assoc user=$USER` and `sacctmgr show qos` list the limits.',
  ],
  [
    /Invalid account or account\/partition combination|invalid account|expired budget/i,
    'Set account to one you belong to that may use this partition (`sacctmgr show assoc user=$USER format=account,partition`); some sites require an account on every job.',
  ],
  [
    /Invalid qos specification/i,
    'Set qos to one your association allows (`sacctmgr show assoc user=$USER format=account,qos`), or leave it unset.',
  ],
  [
    /Requested time limit is invalid|time limit exceeds/i,
    'Lower time_limit to at most the partition’s MaxTime (`sinfo -o "%P %l"`), or pick a partition that allows longer jobs.',
  ],
  [
    /reservation/i,
    'Check reservation: it must exist, be active and include you (`scontrol show reservation`), or leave it unset.',
  ],
  [
    /Invalid generic resource|Invalid GRES|gres/i,
    'The partition offers no (or fewer) GPUs of that kind. Lower gpus_per_node, pick a GPU partition, or on clusters without select/cons_tres set gpus_per_node to 0 and pass extra_directives ["--gres=gpu:N"].',
  ],
  [/Invalid feature specification/i, 'Fix constraint: use features that `sinfo -o "%P %f"` lists.'],
  [
    /Memory specification can not be satisfied|Memory required by task is not available/i,
    'Lower mem or mem_per_cpu to what a node of the partition has (`sinfo -o "%P %m"`, in MB).',
  ],
  [
    /More processors requested than permitted|Node count specification invalid|Requested more nodes/i,
    'Lower cpus or nodes to what the partition allows (`scontrol show partition <name>`).',
  ],
  [
    /MaxSubmitJobs|QOSMaxSubmitJob|AssocMaxSubmitJob|submit limit/i,
    'You have as many jobs queued as your limit allows. Wait for some to finish, or cancel stale ones (`squeue --me`).',
  ],
  [
    /This does not look like a batch script/i,
    'The job script must start with a "#!" line, e.g. "#!/bin/bash".',
  ],
  [
    /Unable to open file|Invalid directory|chdir/i,
    'A path does not exist or is not accessible on the login node: check scriptPath, workDir and the directories of the output files.',
  ],
];
