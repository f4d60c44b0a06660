import { readFile } from 'node:fs/promises';
import type { AnyAuthMethod, AuthenticationType, AuthHandlerMiddleware, ParsedKey, Prompt } from 'ssh2';
import { SlurmTransportError } from '../errors.js';
import { describeEndpoint, type ResolvedEndpoint } from './connection-options.js';
import {
  createDefaultResponder,
  type KeyboardInteractiveResponder,
  terminalAsker,
} from './keyboard-interactive.js';
import { loadSsh2 } from './load-ssh2.js';
import type { Logger } from './logger.js';

/** The ssh2 `authHandler` for one endpoint, plus what it tried (for error messages). */
export interface AuthPlan {
  handler: AuthHandlerMiddleware;
  /** e.g. `"tried agent, publickey (~/.ssh/id), keyboard-interactive (no answer for "Code:"); server allows publickey"`. */
  describe(): string;
}

interface Candidate {
  type: AuthenticationType;
  label: string;
  method: AnyAuthMethod;
}

/**
 * Builds the authentication order OpenSSH would use: agent, private key, password,
 * keyboard-interactive; methods the server does not list are skipped, and after a partial success
 * (e.g. key + one-time code) the remaining ones continue. Reads and decrypts the key up front.
 * @throws {SlurmTransportError} `ERR_SSH_CONFIG` for an unreadable key, a missing or wrong
 *   passphrase, or no method at all.
 */
export async function createAuthPlan(endpoint: ResolvedEndpoint, logger: Logger): Promise<AuthPlan> {
  const { username } = endpoint;
  const target = describeEndpoint(endpoint);
  const candidates: Candidate[] = [];
  const notes: string[] = [];
  if (endpoint.agent !== undefined) {
    candidates.push({
      type: 'agent',
      label: 'agent',
      method: { type: 'agent', username, agent: endpoint.agent },
    });
  }
  const key = await loadPrivateKey(endpoint);
  if (key !== undefined) {
    const label = `publickey (${endpoint.privateKeyPath ?? key.type})`;
    candidates.push({ type: 'publickey', label, method: { type: 'publickey', username, key } });
  }
  if (endpoint.password !== undefined) {
    candidates.push({
      type: 'password',
      label: 'password',
      method: { type: 'password', username, password: endpoint.password },
    });
  }
  const responder = resolveResponder(endpoint);
  if (responder !== undefined) {
    const prompt = (
      _name: string,
      _instructions: string,
      _lang: string,
      prompts: Prompt[],
      finish: (answers: string[]) => void,
    ) => {
      const challenge = {
        target,
        name: _name,
        instructions: _instructions,
        prompts: prompts.map((p) => ({ prompt: p.prompt, echo: p.echo === true })),
      };
      Promise.resolve()
        .then(() => responder(challenge))
        .then(
          (answers) => {
            if (answers === undefined) {
              notes.push(`no answer for ${prompts.map((p) => JSON.stringify(p.prompt.trim())).join(', ')}`);
            }
            finish(answers === undefined ? [] : [...answers]);
          },
          (error: unknown) => {
            logger.warn(`keyboard-interactive responder for ${target} failed: ${String(error)}`);
            notes.push('the responder threw');
            finish([]);
          },
        );
    };
    candidates.push({
      type: 'keyboard-interactive',
      label: 'keyboard-interactive',
      method: { type: 'keyboard-interactive', username, prompt },
    });
  }
  if (candidates.length === 0) {
    throw new SlurmTransportError(
      'ERR_SSH_CONFIG',
      `No authentication method for ${target}: set privateKeyPath, password or agent (SSH_AUTH_SOCK), ` +
        'or allow keyboardInteractive.',
    );
  }

  const tried: string[] = [];
  let serverAllows: AuthenticationType[] | undefined;
  let next = 0;
  const handler: AuthHandlerMiddleware = (methodsLeft, _partialSuccess, callback) => {
    // ssh2 passes null before the server has listed its methods.
    if (methodsLeft !== null && methodsLeft !== undefined) {
      serverAllows = methodsLeft;
    }
    while (next < candidates.length) {
      const candidate = candidates[next++] as Candidate;
      if (serverAllows === undefined || serverAllows.includes(candidate.type)) {
        tried.push(candidate.label);
        logger.debug(`Authenticating to ${target} with ${candidate.label}`);
        callback(candidate.method);
        return;
      }
    }
    callback(false as never);
  };
  return {
    handler,
    describe() {
      const attempted = tried.length === 0 ? 'no configured method' : tried.join(', ');
      const allowed = serverAllows === undefined ? '' : `; the server allows ${serverAllows.join(', ')}`;
      const extra = notes.length === 0 ? '' : ` (keyboard-interactive: ${notes.join('; ')})`;
      return `tried ${attempted}${extra}${allowed}`;
    },
  };
}

function resolveResponder(endpoint: ResolvedEndpoint): KeyboardInteractiveResponder | undefined {
  if (endpoint.keyboardInteractive === false) {
    return undefined;
  }
  if (endpoint.keyboardInteractive !== 'default') {
    return endpoint.keyboardInteractive;
  }
  return createDefaultResponder({
    password: endpoint.password,
    otpEnvVar: endpoint.otpEnvVar,
    env: process.env,
    askTerminal: terminalAsker(),
  });
}

async function loadPrivateKey(endpoint: ResolvedEndpoint): Promise<ParsedKey | undefined> {
  const source = endpoint.privateKeyPath ?? 'privateKey';
  let data = endpoint.privateKey;
  if (endpoint.privateKeyPath !== undefined) {
    try {
      data = await readFile(endpoint.privateKeyPath);
    } catch (error) {
      throw new SlurmTransportError(
        'ERR_SSH_CONFIG',
        `Cannot read the private key ${endpoint.privateKeyPath}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  if (data === undefined) {
    return undefined;
  }
  const { utils } = await loadSsh2();
  const parsed = utils.parseKey(data, endpoint.passphrase);
  if (parsed instanceof Error) {
    const encrypted = /passphrase|encrypted/i.test(parsed.message);
    const fix = encrypted
      ? endpoint.passphrase === undefined
        ? 'The key is encrypted: pass `passphrase`.'
        : 'The passphrase is wrong.'
      : 'Use an OpenSSH or PEM private key (ed25519, ecdsa or rsa).';
    throw new SlurmTransportError(
      'ERR_SSH_CONFIG',
      `Cannot use the private key ${source}: ${parsed.message}. ${fix}`,
      {
        cause: parsed,
      },
    );
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  if (!key.isPrivateKey()) {
    throw new SlurmTransportError('ERR_SSH_CONFIG', `${source} holds a public key, not a private key.`);
  }
  return key;
}
