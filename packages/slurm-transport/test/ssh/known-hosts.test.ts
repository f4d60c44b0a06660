import { createHmac, randomBytes } from 'node:crypto';
import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import {
  checkHostKey,
  formatKnownHostsLine,
  hostFieldMatches,
  knownHostsName,
  parseKnownHosts,
  sshFingerprint,
  sshKeyType,
} from '../../src/ssh/known-hosts.js';
import { testKeyPair } from '../helpers/fake-ssh-server.js';

function publicBlob(): Buffer {
  const parsed = ssh2.utils.parseKey(testKeyPair().public);
  if (parsed instanceof Error || Array.isArray(parsed)) {
    throw new Error('key');
  }
  return parsed.getPublicSSH();
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const key = publicBlob();
  const other = publicBlob();

  it('names non-standard ports as [host]:port, like OpenSSH', () => {
    expect(knownHostsName('login.hpc', 22)).toBe('login.hpc');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it.each([
    ['login.hpc', 'login.hpc', true],
    ['LOGIN.hpc', 'login.hpc', true],
    ['a,login.hpc,b', 'login.hpc', true],
    ['*.hpc', 'login.hpc', true],
    ['login?.hpc', 'login1.hpc', true],
    ['*.hpc,!login.hpc', 'login.hpc', false],
    ['[127.0.0.1]:2222', '[127.0.0.1]:2222', true],
    ['127.0.0.1', '[127.0.0.1]:2222', false],
    ['login.hpcx', 'login.hpc', false],
  ])('host field %j matches %j: %s', (field, name, expected) => {
    expect(hostFieldMatches(field, name)).toBe(expected);
  });

  it('matches hashed |1| entries, including [host]:port', () => {
    expect(hostFieldMatches(hashed('[10.0.0.1]:2200'), '[10.0.0.1]:2200')).toBe(true);
    expect(hostFieldMatches(hashed('[10.0.0.1]:2200'), '10.0.0.1')).toBe(false);
  });

  it('parses markers, comments and line numbers, and skips junk', () => {
    const text = `# comment\n\nlogin ssh-ed25519 AAAA c\n@revoked * ssh-rsa BBBB\nbroken-line\n@cert-authority *.hpc ssh-ed25519 CCCC\n`;
    expect(parseKnownHosts(text)).toEqual([
      { lineNumber: 3, marker: undefined, hosts: 'login', keyType: 'ssh-ed25519', keyBase64: 'AAAA' },
      { lineNumber: 4, marker: '@revoked', hosts: '*', keyType: 'ssh-rsa', keyBase64: 'BBBB' },
      { lineNumber: 6, marker: '@cert-authority', hosts: '*.hpc', keyType: 'ssh-ed25519', keyBase64: 'CCCC' },
    ]);
  });

  it('reports trusted, changed, revoked and unknown keys', () => {
    const line = (blob: Buffer, host = 'login') => formatKnownHostsLine(host, blob);
    const trusted = parseKnownHosts(`${line(other, 'elsewhere')}${line(key)}`);
    expect(checkHostKey(trusted, 'login', key)).toMatchObject({
      status: 'trusted',
      entry: { lineNumber: 2 },
    });
    expect(checkHostKey(parseKnownHosts(line(other)), 'login', key)).toMatchObject({
      status: 'changed',
      entry: { lineNumber: 1 },
    });
    expect(
      checkHostKey(parseKnownHosts(`@revoked * ${line(key).slice('login '.length)}`), 'login', key),
    ).toMatchObject({
      status: 'revoked',
    });
    expect(checkHostKey(parseKnownHosts('login ssh-rsa AAAA\n'), 'login', key)).toEqual({
      status: 'unknown',
      knownTypes: ['ssh-rsa'],
    });
    expect(checkHostKey([], 'login', key)).toEqual({ status: 'unknown', knownTypes: [] });
  });

  it('computes the OpenSSH SHA256 fingerprint and key type', () => {
    expect(sshKeyType(key)).toBe('ssh-ed25519');
    expect(sshFingerprint(key)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
