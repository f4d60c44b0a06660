import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBashLauncher } from '../../src/slurm/launchers/bash-launcher.js';

const scratch = mkdtempSync(join(tmpdir(), 'bash-launcher-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Values that would run code or break the script if they were not quoted.
const HOSTILE: Record<string, string> = {
  SINGLE: "it's a 'quote'",
  DOUBLE: 'say "hi" \\ back\\slash',
  SUBST: `$(touch ${join(scratch, 'pwned-subst')})`,
  BACKTICK: `\`touch ${join(scratch, 'pwned-backtick')}\``,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion that must stay literal
  VARS: '$HOME ${PATH} $0 $@ !!',
  NEWLINES: `line one\nline two\n\ntouch ${join(scratch, 'pwned-newline')}\n`,
  UNICODE: 'ünïcødé ✓ 日本語 🚀',
  GLOB: '* ? [a-z] ~',
  SEMI: `; touch ${join(scratch, 'pwned-semi')}; #`,
  EMPTY: '',
};

describe('buildBashLauncher', () => {
  it('writes strict bash that exports, cds and execs', () => {
    const script = buildBashLauncher({
      runDir: '/runs/r 1/step',
      payloadEnv: { A: '1' },
      bootstrapEnv: { DAGSTER_PIPES_CONTEXT: 'eJy=', DAGSTER_PIPES_MESSAGES: 'eJz=' },
      pythonPath: ['/cache/python/abc'],
      argv: ['python3', '-u', '/runs/r 1/step/payload.py', 'x y'],
      description: 'step a\nof run b',
    });
    expect(script).toMatchInlineSnapshot(`
      "#!/bin/bash
      # step a of run b
      set -euo pipefail
      umask 077
      export A=1
      export PYTHONPATH=/cache/python/abc"\${PYTHONPATH:+:\${PYTHONPATH}}"
      export DAGSTER_PIPES_CONTEXT=eJy=
      export DAGSTER_PIPES_MESSAGES=eJz=
      cd '/runs/r 1/step'
      exec python3 -u '/runs/r 1/step/payload.py' 'x y'
      "
    `);
  });

  it('delivers hostile values verbatim to the payload and runs none of them (real bash)', () => {
    const runDir = join(scratch, `run dir $(x) 'q' ü`);
    execFileSync('mkdir', ['-p', runDir]);
    const dump = join(scratch, 'dump.js');
    writeFileSync(
      dump,
      `process.stdout.write(JSON.stringify({ env: process.env, argv: process.argv.slice(2), cwd: process.cwd() }));`,
    );
    const args = ['$(id)', '`id`', "a'b", 'two\nlines', 'ü ✓', '--flag=x;y'];
    const script = buildBashLauncher({
      runDir,
      payloadEnv: HOSTILE,
      bootstrapEnv: { DAGSTER_PIPES_CONTEXT: 'ctx', DAGSTER_PIPES_MESSAGES: 'msg' },
      pythonPath: ['/shipped $(dir)'],
      argv: [process.execPath, dump, ...args],
    });
    const path = join(scratch, 'job.sh');
    writeFileSync(path, script, { mode: 0o700 });
    const out = execFileSync('/bin/bash', [path], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', PYTHONPATH: '/before' },
    });
    const seen = JSON.parse(out.toString('utf8')) as {
      env: Record<string, string>;
      argv: string[];
      cwd: string;
    };
    for (const [name, value] of Object.entries(HOSTILE)) expect(seen.env[name], name).toBe(value);
    expect(seen.argv).toEqual(args);
    expect(seen.cwd).toBe(runDir);
    expect(seen.env.PYTHONPATH).toBe('/shipped $(dir):/before');
    expect(seen.env.DAGSTER_PIPES_CONTEXT).toBe('ctx');
    for (const marker of ['pwned-subst', 'pwned-backtick', 'pwned-newline', 'pwned-semi']) {
      expect(existsSync(join(scratch, marker)), marker).toBe(false);
    }
    expect(readFileSync(path, 'utf8').startsWith('#!/bin/bash\n')).toBe(true);
  });

  it('lets the bootstrap variables win over extra_env', () => {
    const script = buildBashLauncher({
      runDir: '/r',
      payloadEnv: { DAGSTER_PIPES_CONTEXT: 'user' },
      bootstrapEnv: { DAGSTER_PIPES_CONTEXT: 'bridge' },
      argv: ['true'],
    });
    expect(script.indexOf('DAGSTER_PIPES_CONTEXT=user')).toBeLessThan(
      script.indexOf('DAGSTER_PIPES_CONTEXT=bridge'),
    );
  });

  it.each([['A B'], ['1X'], ['X;rm'], ['X=Y'], ['']])('rejects the variable name %j', (name) => {
    expect(() =>
      buildBashLauncher({ runDir: '/r', payloadEnv: { [name]: 'v' }, bootstrapEnv: {}, argv: ['true'] }),
    ).toThrow(/not a valid environment variable name/);
  });

  it('ends a line a requeued run left unfinished before the rerun appends (real bash)', () => {
    const runDir = join(scratch, `requeue $(x) 'q'`);
    execFileSync('mkdir', ['-p', runDir]);
    const messages = join(runDir, 'messages.jsonl');
    // The payload appends one message, as a rerun's first write.
    const append = join(scratch, 'append.js');
    writeFileSync(append, `require('node:fs').appendFileSync(process.argv[2], '{"method":"opened"}\\n');`);
    const run = (before: string | undefined) => {
      rmSync(messages, { force: true });
      if (before !== undefined) writeFileSync(messages, before);
      const path = join(scratch, 'requeue.sh');
      const script = buildBashLauncher({
        runDir,
        payloadEnv: {},
        bootstrapEnv: {},
        argv: [process.execPath, append, messages],
        messagesFile: messages,
      });
      writeFileSync(path, script, { mode: 0o700 });
      execFileSync('/bin/bash', [path], { env: { PATH: process.env.PATH } });
      return readFileSync(messages, 'utf8');
    };
    const rerun = '{"method":"opened"}\n';
    expect(run('{"method":"log"}\n{"method":"lo')).toBe(`{"method":"log"}\n{"method":"lo\n${rerun}`);
    expect(run('{"method":"log"}\n')).toBe(`{"method":"log"}\n${rerun}`);
    expect(run('')).toBe(rerun);
    expect(run(undefined)).toBe(rerun);
  });

  it('rejects NUL bytes and an empty command', () => {
    expect(() =>
      buildBashLauncher({ runDir: '/r', payloadEnv: { A: 'a\0b' }, bootstrapEnv: {}, argv: ['true'] }),
    ).toThrow(TypeError);
    expect(() => buildBashLauncher({ runDir: '/r', payloadEnv: {}, bootstrapEnv: {}, argv: [] })).toThrow(
      TypeError,
    );
  });
});
