import { describe, expect, it } from 'vitest';
import { isSlurmTransportError, type SlurmTransportError } from '../../src/errors.js';
import {
  buildSbatchArgv,
  parseSbatchOutput,
  resolveSlurmJobResources,
  submitJob,
} from '../../src/slurm/index.js';
import { shellJoin } from '../../src/ssh/shell-quote.js';
import { FakeExecutor, failed, ok } from './fake-executor.js';

const PATHS = {
  jobName: 'dagster_example_hello',
  workDir: '/home/u/.slurm-pipes/runs/r1/step',
  stdoutPath: '/home/u/.slurm-pipes/runs/r1/step/slurm-%j.out',
  stderrPath: '/home/u/.slurm-pipes/runs/r1/step/slurm-%j.err',
  scriptPath: '/home/u/.slurm-pipes/runs/r1/step/job.sh',
};

async function rejection(promise: Promise<unknown>): Promise<SlurmTransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSlurmTransportError(error)) throw new Error(`expected a SlurmTransportError, got ${String(error)}`);
  return error;
}

describe('buildSbatchArgv', () => {
  it('states every default explicitly, with --parsable', () => {
    expect(buildSbatchArgv(PATHS)).toEqual([
      'sbatch',
      '--parsable',
      '--job-name=dagster_example_hello',
      '--chdir=/home/u/.slurm-pipes/runs/r1/step',
      '--output=/home/u/.slurm-pipes/runs/r1/step/slurm-%j.out',
      '--error=/home/u/.slurm-pipes/runs/r1/step/slurm-%j.err',
      '--nodes=1',
      '--cpus-per-task=2',
      '--mem=4096M',
      '--time=00:30:00',
      '/home/u/.slurm-pipes/runs/r1/step/job.sh',
    ]);
  });

  it('emits every option of a full request, overrides winning, no GPU/mem heuristics', () => {
    const argv = buildSbatchArgv({
      ...PATHS,
      queue: {
        partition: 'compute',
        qos: 'normal',
        reservation: 'maint',
        account: 'proj1',
        constraint: 'skylake&ib',
        time_limit: '2-00:00:00',
        signal_before_timeout: 'USR1@300',
        extra_directives: ['--comment=nightly run'],
      },
      overrides: { nodes: 1, gpus_per_node: 1, mem_per_cpu: '8G', exclusive: true, partition: 'gpu' },
      exportNone: true,
      scriptArgs: ['--flag', "it's"],
    });
    expect(argv).toEqual([
      'sbatch',
      '--parsable',
      '--job-name=dagster_example_hello',
      '--chdir=/home/u/.slurm-pipes/runs/r1/step',
      '--output=/home/u/.slurm-pipes/runs/r1/step/slurm-%j.out',
      '--error=/home/u/.slurm-pipes/runs/r1/step/slurm-%j.err',
      '--partition=gpu',
      '--nodes=1',
      '--cpus-per-task=2',
      '--gpus-per-node=1',
      '--mem-per-cpu=8G',
      '--time=2-00:00:00',
      '--signal=B:USR1@300',
      '--qos=normal',
      '--reservation=maint',
      '--account=proj1',
      '--constraint=skylake&ib',
      '--exclusive',
      '--export=NONE',
      '--comment=nightly run',
      '/home/u/.slurm-pipes/runs/r1/step/job.sh',
      '--flag',
      "it's",
    ]);
  });

  it('keeps quoting-sensitive values in one argv element each, safe through the shell', () => {
    const argv = buildSbatchArgv({
      ...PATHS,
      jobName: "asset 'a/b' $(rm -rf ~); `x`",
      workDir: '/scratch/my runs/r1',
      stdoutPath: '/scratch/my runs/r1/out %j.log',
      queue: { constraint: '[rack1|rack2]*2', extra_directives: ['--comment=a;b && c'] },
    });
    expect(argv).toContain("--job-name=asset 'a/b' $(rm -rf ~); `x`");
    expect(argv).toContain('--constraint=[rack1|rack2]*2');
    expect(shellJoin(argv)).toMatchInlineSnapshot(
      `"sbatch --parsable '--job-name=asset '\\''a/b'\\'' $(rm -rf ~); \`x\`' '--chdir=/scratch/my runs/r1' '--output=/scratch/my runs/r1/out %j.log' --error=/home/u/.slurm-pipes/runs/r1/step/slurm-%j.err --nodes=1 --cpus-per-task=2 --mem=4096M --time=00:30:00 '--constraint=[rack1|rack2]*2' '--comment=a;b && c' /home/u/.slurm-pipes/runs/r1/step/job.sh"`,
    );
  });

  it('accepts pre-resolved resources', () => {
    const resources = resolveSlurmJobResources({ time_limit: 'UNLIMITED', mem: null });
    const argv = buildSbatchArgv({ ...PATHS, resources });
    expect(argv).toContain('--time=UNLIMITED');
    expect(argv.some((arg) => arg.startsWith('--mem'))).toBe(false);
  });

  it.each([
    [{ jobName: '' }, /jobName must be a non-empty string/],
    [{ workDir: '/a\nb' }, /workDir must not contain control characters/],
    [{ scriptPath: '-job.sh' }, /scriptPath must not start with "-"/],
    [{ scriptArgs: ['a\0b'] }, /scriptArgs\[0\] must be a string without NUL bytes/],
    [{ overrides: { cpus: 2 } }, /extra_slurm_opts: unknown key "cpus"/],
  ])('rejects %j', (patch, message) => {
    expect(() => buildSbatchArgv({ ...PATHS, ...patch })).toThrow(message);
  });
});

describe('parseSbatchOutput', () => {
  it.each([
    ['4242\n', { jobId: '4242', cluster: undefined }],
    ['4242;cluster1\n', { jobId: '4242', cluster: 'cluster1' }],
    ['NOTICE: jobs are charged to project p1\n4243\n', { jobId: '4243', cluster: undefined }],
    ['Submitted batch job 4242\n', undefined],
    ['', undefined],
  ])('%j', (stdout, expected) => {
    expect(parseSbatchOutput(stdout)).toEqual(expected);
  });
});

describe('submitJob', () => {
  it('runs sbatch once through the executor and returns the job id', async () => {
    const executor = new FakeExecutor({ sbatch: ok('4242\n') });
    await expect(submitJob(executor, PATHS)).resolves.toBe('4242');
    expect(executor.calls).toHaveLength(1);
    expect(executor.calls[0]?.argv).toEqual(buildSbatchArgv(PATHS));
    expect(executor.calls[0]?.options).toEqual({ timeoutMs: 120_000 });
  });

  it('passes the abort signal and timeout on', async () => {
    const executor = new FakeExecutor({ sbatch: ok('7;c\n') });
    const controller = new AbortController();
    await submitJob(executor, PATHS, { signal: controller.signal, timeoutMs: 5000 });
    expect(executor.calls[0]?.options).toEqual({ signal: controller.signal, timeoutMs: 5000 });
  });

  it('does not run anything for an invalid request', async () => {
    const executor = new FakeExecutor({ sbatch: ok('1\n') });
    await expect(submitJob(executor, { ...PATHS, overrides: { mem: '4GB' } })).rejects.toThrow(RangeError);
    expect(executor.calls).toHaveLength(0);
  });

  it.each([
    [
      'sbatch: error: invalid partition specified: gpu\nsbatch: error: Batch job submission failed: Invalid partition name specified\n',
      /Fix: Set partition to one that `sinfo --summarize` lists/,
    ],
    [
      'sbatch: error: Batch job submission failed: Requested node configuration is not available\n',
      /Fix: No node in the partition has what one node of the job asks for\. Lower cpus, mem\/mem_per_cpu or gpus_per_node/,
    ],
    [
      "sbatch: error: QOSMaxWallDurationPerJobLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)\n",
      /Fix: The job exceeds a limit of your QOS or association/,
    ],
    [
      'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n',
      /Fix: Set account to one you belong to/,
    ],
    [
      'sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)\n',
      /Fix: Lower time_limit to at most the partition’s MaxTime/,
    ],
    [
      'sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)\n',
      /Fix: slurmctld is down, restarting or overloaded/,
    ],
  ])('explains %j', async (stderr, fix) => {
    const executor = new FakeExecutor({ sbatch: failed(stderr) });
    const error = await rejection(submitJob(executor, PATHS));
    expect(error.code).toBe('ERR_SLURM_SUBMIT');
    expect(error.message).toMatch(
      /^sbatch could not submit job "dagster_example_hello" \(exit code 1\)\.\nsbatch said: /,
    );
    expect(error.message).toContain(stderr.trim().split('\n').at(-1));
    expect(error.message).toMatch(fix);
    expect(error.stderr).toBe(stderr);
    expect(error.exitCode).toBe(1);
    expect(error.command).toBe(shellJoin(buildSbatchArgv(PATHS)));
  });

  it('gives the whole message for a missing sbatch', async () => {
    const executor = new FakeExecutor();
    const error = await rejection(submitJob(executor, PATHS));
    expect(error.message).toMatchInlineSnapshot(`
      "sbatch could not submit job "dagster_example_hello" (exit code 127).
      sbatch said: bash: line 1: sbatch: command not found
      Fix: The Slurm command is not on the default PATH of a non-login bash (remote commands run as \`bash --noprofile --norc\`, so no \`module load\`). Ask the administrators, or make it reachable without a login profile."
    `);
  });

  it('fails clearly when sbatch prints no job id', async () => {
    const executor = new FakeExecutor({ sbatch: ok('Submitted batch job 12\n') });
    const error = await rejection(submitJob(executor, PATHS));
    expect(error.code).toBe('ERR_SLURM_SUBMIT');
    expect(error.message).toMatch(/sbatch exited 0 but printed no job id .*got "Submitted batch job 12\\n"/);
  });

  it('lets executor errors through unchanged', async () => {
    const { SlurmTransportError } = await import('../../src/errors.js');
    const cause = new SlurmTransportError('ERR_SSH_DISCONNECTED', 'gone');
    const executor = new FakeExecutor({ sbatch: cause });
    await expect(submitJob(executor, PATHS)).rejects.toBe(cause);
  });
});
