import { describe, expect, it } from 'vitest';
import {
  resolveSlurmJobResources,
  type SlurmJobResources,
  validateSlurmJobOverrides,
  validateSlurmQueueConfig,
} from '../../src/slurm/index.js';

const DEFAULTS: SlurmJobResources = {
  partition: undefined,
  nodes: 1,
  cpusPerTask: 2,
  gpusPerNode: 0,
  mem: '4096M',
  memPerCpu: undefined,
  timeLimit: '00:30:00',
  timeLimitSeconds: 1800,
  signalBeforeTimeout: undefined,
  qos: undefined,
  reservation: undefined,
  account: undefined,
  constraint: undefined,
  exclusive: false,
  extraDirectives: [],
};

describe('resolveSlurmJobResources', () => {
  it('applies dagster-slurm defaults', () => {
    expect(resolveSlurmJobResources()).toEqual(DEFAULTS);
    expect(resolveSlurmJobResources({}, {})).toEqual(DEFAULTS);
  });

  it('reads what the Python SlurmQueueConfig.to_bridge_config() sends', () => {
    const fromPython = {
      partition: '',
      num_nodes: 1,
      time_limit: '00:30:00',
      cpus: 2,
      gpus_per_node: 0,
      mem: '4096M',
      exclusive: false,
      extra_directives: [],
    };
    expect(resolveSlurmJobResources(fromPython, {})).toEqual(DEFAULTS);
  });

  it('lets extra_slurm_opts override the queue and appends directives', () => {
    const resources = resolveSlurmJobResources(
      {
        partition: 'compute',
        qos: 'normal',
        account: 'proj1',
        time_limit: '1-00:00:00',
        signal_before_timeout: 'USR1@300',
        extra_directives: ['--comment=nightly'],
      },
      {
        nodes: 4,
        cpus_per_task: 16,
        mem: '64G',
        gpus_per_node: 2,
        partition: 'gpu',
        qos: null,
        exclusive: true,
        extra_directives: ['--licenses=matlab:1'],
      },
    );
    expect(resources).toEqual({
      ...DEFAULTS,
      partition: 'gpu',
      nodes: 4,
      cpusPerTask: 16,
      gpusPerNode: 2,
      mem: '64G',
      timeLimit: '1-00:00:00',
      timeLimitSeconds: 86_400,
      signalBeforeTimeout: { signal: 'USR1', seconds: 300 },
      account: 'proj1',
      exclusive: true,
      extraDirectives: ['--comment=nightly', '--licenses=matlab:1'],
    });
  });

  it('lets mem and mem_per_cpu replace each other across layers', () => {
    expect(resolveSlurmJobResources({}, { mem_per_cpu: '2G' })).toMatchObject({
      mem: undefined,
      memPerCpu: '2G',
    });
    expect(resolveSlurmJobResources({ mem_per_cpu: '2G' }, {})).toMatchObject({
      mem: undefined,
      memPerCpu: '2G',
    });
    expect(resolveSlurmJobResources({ mem_per_cpu: '2G' }, { mem: '16g' })).toMatchObject({
      mem: '16G',
      memPerCpu: undefined,
    });
    expect(resolveSlurmJobResources({ mem: null }, {})).toMatchObject({
      mem: undefined,
      memPerCpu: undefined,
    });
    expect(resolveSlurmJobResources({}, { mem: null })).toMatchObject({
      mem: undefined,
      memPerCpu: undefined,
    });
  });

  it.each([
    ['UNLIMITED', 'UNLIMITED', null],
    ['infinite', 'UNLIMITED', null],
    ['90', '01:30:00', 5400],
    ['2-12', '2-12:00:00', 216_000],
  ])('normalises time_limit %j', (input, timeLimit, timeLimitSeconds) => {
    expect(resolveSlurmJobResources({ time_limit: input })).toMatchObject({ timeLimit, timeLimitSeconds });
  });

  it('accepts digit strings for whole numbers (env vars)', () => {
    expect(resolveSlurmJobResources({ cpus: '8', num_nodes: '2' })).toMatchObject({
      cpusPerTask: 8,
      nodes: 2,
    });
  });

  it('accepts signal_before_timeout with an UNLIMITED time limit and SIG/B: prefixes', () => {
    expect(
      resolveSlurmJobResources({ time_limit: 'UNLIMITED', signal_before_timeout: 'B:SIGusr2@600' })
        .signalBeforeTimeout,
    ).toEqual({ signal: 'USR2', seconds: 600 });
    expect(resolveSlurmJobResources({ signal_before_timeout: '10@60' }).signalBeforeTimeout).toEqual({
      signal: '10',
      seconds: 60,
    });
  });
});

describe('validation errors name the key, the value and the fix', () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'unknown override key with alias suggestion',
      () => resolveSlurmJobResources({}, { cpus: 4 }),
      /^extra_slurm_opts: unknown key "cpus" \(value 4\)\. Did you mean "cpus_per_task"\? Known keys: nodes, cpus_per_task/,
    ],
    [
      'unknown queue key with typo suggestion',
      () => resolveSlurmJobResources({ partiton: 'gpu' }),
      /^queue: unknown key "partiton" \(value "gpu"\)\. Did you mean "partition"\?/,
    ],
    [
      'queue key used in extra_slurm_opts',
      () => resolveSlurmJobResources({}, { num_nodes: 2 }),
      /Did you mean "nodes"\?/,
    ],
    [
      'dagster-slurm 1.22 directive key',
      () => resolveSlurmJobResources({ extra_sbatch_directives: ['--x'] }),
      /Did you mean "extra_directives"\?/,
    ],
    [
      'memory with a B suffix',
      () => resolveSlurmJobResources({}, { mem: '4GB' }),
      /^extra_slurm_opts\.mem: is not a Slurm memory size, got "4GB"\. Slurm takes no "B": write "4G"\.$/,
    ],
    [
      'memory as a bare number',
      () => resolveSlurmJobResources({ mem: 4096 }),
      /^queue\.mem: must be a string with a unit, got 4096\. Give the unit explicitly: write "4096M"/,
    ],
    [
      'mem and mem_per_cpu together',
      () => resolveSlurmJobResources({}, { mem: '8G', mem_per_cpu: '2G' }),
      /^extra_slurm_opts: mem \("8G"\) and mem_per_cpu \("2G"\) are both set, but Slurm takes only one of --mem and --mem-per-cpu/,
    ],
    [
      'bad time limit',
      () => resolveSlurmJobResources({}, { time_limit: '1:75:00' }),
      /^extra_slurm_opts\.time_limit: is not a Slurm time limit, got "1:75:00"\. Use HH:MM:SS, D-HH:MM:SS/,
    ],
    [
      'numeric time limit',
      () => resolveSlurmJobResources({ time_limit: 60 }),
      /^queue\.time_limit: must be a string, got 60\. A bare number is ambiguous; write the limit as a string, e\.g\. "60:00" for 60 minutes/,
    ],
    [
      'zero time limit',
      () => resolveSlurmJobResources({ time_limit: '0' }),
      /Write "UNLIMITED" if that is what you mean/,
    ],
    [
      'signal without a lead time',
      () => resolveSlurmJobResources({ signal_before_timeout: 'USR1' }),
      /^queue\.signal_before_timeout: is not SIGNAL@SECONDS, got "USR1"\. Write SIGNAL@SECONDS, e\.g\. "USR1@300"/,
    ],
    [
      'unknown signal',
      () => resolveSlurmJobResources({ signal_before_timeout: 'FOO@60' }),
      /names no signal \("FOO"\)/,
    ],
    [
      'signal lead not shorter than the walltime',
      () => resolveSlurmJobResources({ time_limit: '00:05:00', signal_before_timeout: 'USR1@300' }),
      /^queue\.signal_before_timeout: the lead time of 300 s is not shorter than the time limit of 00:05:00 \(300 s\).*Lower the lead time or raise time_limit\.$/,
    ],
    [
      'override walltime makes the queue signal impossible',
      () => resolveSlurmJobResources({ signal_before_timeout: 'USR1@600' }, { time_limit: '00:09:00' }),
      /^queue\.signal_before_timeout: the lead time of 600 s/,
    ],
    [
      'zero nodes',
      () => resolveSlurmJobResources({}, { nodes: 0 }),
      /^extra_slurm_opts\.nodes: must be a whole number >= 1, got 0/,
    ],
    [
      'fractional cpus',
      () => resolveSlurmJobResources({ cpus: 1.5 }),
      /^queue\.cpus: must be a whole number >= 1, got 1\.5/,
    ],
    [
      'negative gpus',
      () => resolveSlurmJobResources({}, { gpus_per_node: -1 }),
      /gpus_per_node: must be a whole number >= 0/,
    ],
    [
      'exclusive as a string',
      () => resolveSlurmJobResources({ exclusive: 'yes' }),
      /^queue\.exclusive: must be true or false/,
    ],
    [
      'partition with a newline',
      () => resolveSlurmJobResources({ partition: 'a\nb' }),
      /^queue\.partition: must not contain control characters/,
    ],
    [
      'overrides not an object',
      () => resolveSlurmJobResources({}, ['mem'] as never),
      /^extra_slurm_opts: must be an object/,
    ],
    [
      'directive without dashes',
      () => resolveSlurmJobResources({ extra_directives: ['licenses=x:1'] }),
      /^queue\.extra_directives\[0\]: is not a long sbatch option/,
    ],
    [
      'directive with #SBATCH',
      () => resolveSlurmJobResources({}, { extra_directives: ['#SBATCH --comment=x'] }),
      /Drop "#SBATCH": write "--comment=x"\./,
    ],
    ['short directive', () => resolveSlurmJobResources({ extra_directives: ['-w n1'] }), /Use the long form/],
    [
      'directive that has its own key',
      () => resolveSlurmJobResources({}, { extra_directives: ['--comment=ok', '--time=10'] }),
      /^extra_slurm_opts\.extra_directives\[1\]: sets --time, which cannot be given as a raw directive, got "--time=10"\. Use the time_limit key\.$/,
    ],
    [
      'directive that breaks tracking',
      () => resolveSlurmJobResources({ extra_directives: ['--array=1-10'] }),
      /Job arrays are not supported/,
    ],
    [
      'directives not an array',
      () => resolveSlurmJobResources({ extra_directives: '--x' }),
      /must be an array of strings/,
    ],
  ];

  it.each(cases)('%s', (_name, run, message) => {
    expect(run).toThrow(message);
  });

  it('uses TypeError for unknown keys and wrong types, RangeError for bad values', () => {
    expect(() => resolveSlurmJobResources({}, { cpus: 4 })).toThrow(TypeError);
    expect(() => resolveSlurmJobResources({ mem: 4096 })).toThrow(TypeError);
    expect(() => resolveSlurmJobResources({ mem: '4GB' })).toThrow(RangeError);
  });

  it('offers assertion helpers that check without resolving', () => {
    expect(() => validateSlurmQueueConfig({ partition: 'debug' })).not.toThrow();
    expect(() => validateSlurmJobOverrides({ memory: '1G' })).toThrow(/Did you mean "mem"\?/);
  });
});
