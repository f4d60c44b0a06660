import { mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { SshConnectionOptions } from '../../src/index.js';
import type { RealSshd } from '../helpers/real-sshd.js';

/** The repository root (tsx resolves from there). */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** `node` running a TypeScript fixture of this folder from source. */
export function fixtureCommand(name: string): string[] {
  return [
    process.execPath,
    '--conditions=@slurm-pipes/source',
    '--import',
    'tsx',
    fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)),
  ];
}

/** A fresh, short daemon directory (the socket path must stay under 100 bytes). */
export async function tempMuxDir(): Promise<{ dir: string; [Symbol.asyncDispose](): Promise<void> }> {
  const dir = await mkdtemp('/tmp/spmux-');
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) };
}

/** Key-based options for the throwaway sshd. */
export function sshOptions(sshd: RealSshd): SshConnectionOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.privateKeyPath,
    knownHostsPath: sshd.knownHostsPath,
    agent: false,
  };
}

/** Lines of the sshd log recording a successful public-key login. */
export async function publicKeyLogins(sshd: RealSshd): Promise<number> {
  return (await sshd.log()).split('\n').filter((line) => line.includes('Accepted publickey')).length;
}

/** Polls `predicate` every 20 ms until true, or throws naming `what`. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
