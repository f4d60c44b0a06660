import type { ExecOptions, RemoteExecutor } from '@slurm-pipes/slurm-transport';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../src/errors.js';
import { expandRemoteBase, needsRemoteHome, resolveRemoteBase } from '../../src/slurm/remote-base.js';

function executor(home: string, exitCode = 0) {
  const calls: string[][] = [];
  const exec: RemoteExecutor = {
    exec: async (argv: readonly string[], _options?: ExecOptions) => {
      calls.push([...argv]);
      return { stdout: `${home}\n`, stderr: '', exitCode, signal: null };
    },
  };
  return { exec, calls };
}

describe('remote base', () => {
  it.each([
    ['$HOME/.slurm-pipes', '/home/u/.slurm-pipes'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${HOME} form of a remote base
    ['${HOME}/x/', '/home/u/x'],
    ['~', '/home/u'],
    ['~/a/../b', '/home/u/b'],
    ['rel/dir', '/home/u/rel/dir'],
    ['/scratch/u/sp', '/scratch/u/sp'],
    ['/scratch/$HOME', '/scratch/$HOME'],
  ])('expands %j to %j', (input, expected) => {
    expect(expandRemoteBase(input, '/home/u')).toBe(expected);
  });

  it('asks for $HOME once, and only when needed', async () => {
    const a = executor('/home/u');
    expect(await resolveRemoteBase(a.exec, undefined, undefined)).toBe('/home/u/.slurm-pipes');
    expect(a.calls).toEqual([['printenv', 'HOME']]);
    const b = executor('/home/u');
    expect(await resolveRemoteBase(b.exec, '/abs', undefined)).toBe('/abs');
    expect(b.calls).toEqual([]);
    expect(needsRemoteHome('/abs/~')).toBe(false);
  });

  it('fails clearly without a usable $HOME or with control characters', async () => {
    await expect(resolveRemoteBase(executor('', 1).exec, undefined, undefined)).rejects.toThrow(
      /no usable \$HOME.*Set slurm.remoteBase/,
    );
    expect(() => expandRemoteBase('/a\nb', undefined)).toThrow(BridgeError);
  });
});
