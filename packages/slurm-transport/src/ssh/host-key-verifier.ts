import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SlurmTransportError } from '../errors.js';
import type { HostKeyPolicy } from './connection-options.js';
import {
  checkHostKey,
  formatKnownHostsLine,
  knownHostsName,
  parseKnownHosts,
  sshFingerprint,
  sshKeyType,
} from './known-hosts.js';
import type { Logger } from './logger.js';

/** What {@link verifyHostKey} needs to know. */
export interface HostKeyContext {
  host: string;
  port: number;
  policy: HostKeyPolicy;
  knownHostsPath: string;
  logger: Logger;
}

/**
 * Checks the server key `keyBlob` under `policy`; resolves when it is trusted (appending it to
 * known_hosts first for a new host under `'accept-new'`).
 * @throws {SlurmTransportError} `ERR_SSH_HOST_KEY` naming the known_hosts line and the fix,
 *   `ERR_SSH_CONFIG` when known_hosts cannot be read or written.
 */
export async function verifyHostKey(keyBlob: Buffer, context: HostKeyContext): Promise<void> {
  const { host, port, policy, knownHostsPath: file, logger } = context;
  const name = knownHostsName(host, port);
  const keyType = sshKeyType(keyBlob);
  const fingerprint = sshFingerprint(keyBlob);
  if (policy === 'off') {
    logger.debug(`Host key of ${name} not checked (hostKeyPolicy 'off'): ${keyType} ${fingerprint}`);
    return;
  }
  const text = await readKnownHosts(file);
  const check = checkHostKey(parseKnownHosts(text), name, keyBlob);
  const scan = `ssh-keyscan ${port === 22 ? '' : `-p ${port} `}${host}`;
  switch (check.status) {
    case 'trusted':
      return;
    case 'revoked':
      throw new SlurmTransportError(
        'ERR_SSH_HOST_KEY',
        `The host key of ${name} (${keyType} ${fingerprint}) is marked @revoked in ${file}:${check.entry.lineNumber}. ` +
          'Refusing to connect; ask the cluster admins for the current host key.',
      );
    case 'changed':
      throw new SlurmTransportError(
        'ERR_SSH_HOST_KEY',
        `The host key of ${name} (${keyType} ${fingerprint}) does not match ${file}:${check.entry.lineNumber}. ` +
          'Someone may be intercepting the connection, or the host key was changed. Confirm the new fingerprint ' +
          `with the cluster admins, then remove the old entry with \`ssh-keygen -R '${name}' -f ${file}\` and ` +
          `connect again with hostKeyPolicy 'accept-new' (or add the output of \`${scan}\`).`,
      );
    case 'unknown': {
      const known =
        check.knownTypes.length === 0
          ? ''
          : ` (it lists other key types for this host: ${check.knownTypes.join(', ')})`;
      if (policy === 'strict') {
        throw new SlurmTransportError(
          'ERR_SSH_HOST_KEY',
          `The host key of ${name} (${keyType} ${fingerprint}) is not in ${file}${known}. Check the fingerprint ` +
            `with the cluster admins and add the key (\`${scan} >> ${file}\`), or set hostKeyPolicy 'accept-new' ` +
            'to record it on first connect.',
        );
      }
      const separator = text === '' || text.endsWith('\n') ? '' : '\n';
      await appendKnownHost(file, separator + formatKnownHostsLine(name, keyBlob));
      logger.info(`Added the host key of ${name} (${keyType} ${fingerprint}) to ${file}`);
    }
  }
}

async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return '';
    }
    throw new SlurmTransportError(
      'ERR_SSH_CONFIG',
      `Cannot read the known_hosts file ${file}: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function appendKnownHost(file: string, line: string): Promise<void> {
  try {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // An O_APPEND write of one short line is atomic, so concurrent connects cannot interleave.
    await appendFile(file, line, { mode: 0o600 });
  } catch (error) {
    throw new SlurmTransportError(
      'ERR_SSH_CONFIG',
      `Cannot record the new host key in ${file}: ${String(error)}. Make the file writable or add the key yourself.`,
      { cause: error },
    );
  }
}
