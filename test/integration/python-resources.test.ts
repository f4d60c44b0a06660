// dagster_slurm_pipes' resources turn Dagster configuration into the bridge's configuration;
// the bridge then validates it. Both halves run for real here.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../packages/bridge/src/config/load-config.js';
import { skipReason } from '../helpers/flags.js';
import { dagsterMissing, repoRoot, venvPython } from '../helpers/python.js';

const skip = skipReason(dagsterMissing());

function python(code: string, env: Record<string, string> = {}): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_')));
  return execFileSync(venvPython(), ['-c', code], {
    cwd: repoRoot,
    env: { ...clean, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe.skipIf(skip !== undefined)('dagster_slurm_pipes resources', () => {
  it('builds a Slurm bridge config from SLURM_SSH_* and SLURM_* env vars, as dagster-slurm does', () => {
    const out = python(
      `import json
from dagster_slurm_pipes import ComputeResource, SlurmResource
c = ComputeResource(mode="slurm", slurm=SlurmResource.from_env())
print(json.dumps(c.bridge_config({"mem": "8G", "nodes": 2})))`,
      {
        SLURM_SSH_HOST: 'login.example',
        SLURM_SSH_PORT: '2222',
        SLURM_SSH_USER: 'alice',
        SLURM_SSH_KEY: '/keys/id',
        SLURM_SSH_HOST_KEY_CHECKING: 'accept-new',
        SLURM_SSH_JUMP_HOST: 'bastion.example',
        SLURM_PARTITION: 'gpu',
        SLURM_CPUS: '8',
        SLURM_TIME: '02:00:00',
        SLURM_REMOTE_BASE: '/scratch/alice/sp',
        SLURM_PRE_DEPLOYED_ENV_PATH: '/opt/envs/train/',
      },
    );
    const config = JSON.parse(out);
    expect(config.slurm.ssh).toMatchObject({
      host: 'login.example',
      port: 2222,
      user: 'alice',
      keyPath: '/keys/id',
      hostKeyPolicy: 'accept-new',
    });
    expect(config.slurm.ssh.jumpHost).toMatchObject({ host: 'bastion.example', user: 'alice', port: 22 });
    expect(config.slurm.queue).toMatchObject({ partition: 'gpu', cpus: 8, time_limit: '02:00:00' });
    expect(config.slurm.remoteBase).toBe('/scratch/alice/sp');
    expect(config.slurm.python).toBe('/opt/envs/train/bin/python');
    expect(config.extraSlurmOpts).toEqual({ mem: '8G', nodes: 2 });
    // The bridge accepts what the Python side produces.
    const resolved = resolveConfig([{ source: 'SLURM_PIPES_CONFIG_JSON', values: config }]);
    expect(resolved.mode).toBe('slurm');
    expect(resolved.slurm?.ssh.port).toBe(2222);
    expect(resolved.slurm?.python).toBe('/opt/envs/train/bin/python');
  });

  it('names the missing variables when from_env cannot build a connection', () => {
    expect(() =>
      python('from dagster_slurm_pipes import SSHConnectionResource\nSSHConnectionResource.from_env()'),
    ).toThrow(/set SLURM_SSH_HOST, SLURM_SSH_USER/);
  });

  it('refuses slurm mode without a SlurmResource, and a bad mode', () => {
    expect(() =>
      python(
        'from dagster_slurm_pipes import ComputeResource\nComputeResource(mode="slurm").bridge_config()',
      ),
    ).toThrow(/needs slurm=SlurmResource/);
    expect(() =>
      python('from dagster_slurm_pipes import ComputeResource\nComputeResource(mode="cloud")'),
    ).toThrow(/mode/);
  });

  it('finds the bridge from SLURM_PIPES_BRIDGE and explains when it cannot', () => {
    const found = python(
      'from dagster_slurm_pipes import find_bridge_command\nprint(find_bridge_command())',
      {
        SLURM_PIPES_BRIDGE: '["node", "/opt/cli.js"]',
        PATH: '/usr/bin:/bin',
      },
    );
    expect(found.trim()).toBe("['node', '/opt/cli.js']");
  });
});
