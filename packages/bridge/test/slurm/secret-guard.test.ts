import { describe, expect, it } from 'vitest';
import { SshConfig } from '../../src/config/schema.js';
import { assertNoSecrets, jobEnvironment, sshSecrets } from '../../src/slurm/secret-guard.js';

const ssh = SshConfig.parse({
  host: 'login',
  user: 'u',
  password: 'hunter2-password',
  jumpHost: { host: 'bastion', user: 'u', otp: '123456' },
});

describe('secret guard', () => {
  it("drops the bridge's own secret-bearing variables from extra_env", () => {
    const { env, dropped } = jobEnvironment({
      A: '1',
      SLURM_SSH_PASSWORD: 'x',
      SLURM_PIPES_CONFIG_JSON: '{}',
    });
    expect(env).toEqual({ A: '1' });
    expect(dropped).toEqual(['SLURM_SSH_PASSWORD', 'SLURM_PIPES_CONFIG_JSON']);
  });

  it('collects the secrets of every hop', () => {
    expect(sshSecrets(ssh)).toEqual([
      ['slurm.ssh.password', 'hunter2-password'],
      ['slurm.ssh.jumpHost.otp', '123456'],
    ]);
    expect(sshSecrets(undefined)).toEqual([]);
  });

  it('refuses to write a file holding a secret, naming the setting but not the value', () => {
    expect(() => assertNoSecrets({ 'job.sh': 'export X=1' }, sshSecrets(ssh))).not.toThrow();
    expect(() => assertNoSecrets({ 'job.sh': "export TOKEN='hunter2-password'" }, sshSecrets(ssh))).toThrow(
      /job\.sh .* value of slurm\.ssh\.password/,
    );
    try {
      assertNoSecrets({ 'context.json': '{"otp": "123456"}' }, sshSecrets(ssh));
    } catch (error) {
      expect((error as Error).message).not.toContain('123456');
    }
  });
});
