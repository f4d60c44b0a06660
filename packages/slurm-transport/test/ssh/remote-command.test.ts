import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildRemoteCommand } from '../../src/ssh/remote-command.js';

// The command string is what sshd hands to the login shell (`$SHELL -c <command>`).
function runAsLoginShell(shell: string, command: string): string[] {
  return execFileSync(shell, ['-c', command]).toString('utf8').split('\0').slice(0, -1);
}

describe('buildRemoteCommand', () => {
  it('runs simple argv through a clean bash, readable in ps', () => {
    expect(buildRemoteCommand(['squeue', '-h', '-j', '42', '-o', '%T'])).toBe(
      "exec bash --noprofile --norc -c 'squeue -h -j 42 -o %T'",
    );
  });

  it('base64-encodes scripts that some login shells would mangle even in quotes', () => {
    for (const arg of ['a\nb', '!1', 'back\\slash', 'ünï', "it's"]) {
      expect(buildRemoteCommand(['printf', '%s', arg])).toMatch(
        /^exec bash --noprofile --norc -c 'eval "\$\(printf %s [A-Za-z0-9+/=]+ \| base64 -d\)"'$/,
      );
    }
  });

  it.each(['/bin/sh', '/bin/bash'])('delivers hostile arguments verbatim with %s as login shell', (shell) => {
    const args = [
      "it's",
      '$(echo pwned)',
      '`id`',
      'a\nb',
      ' sp ace ',
      'ünï 日本',
      '!bang',
      'back\\slash',
      '',
      '*',
      '$HOME',
      '"dq"',
    ];
    expect(runAsLoginShell(shell, buildRemoteCommand(['printf', '%s\\0', ...args]))).toEqual(args);
  });
});
