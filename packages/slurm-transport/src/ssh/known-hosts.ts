import { createHash, createHmac } from 'node:crypto';

// I/O-free handling of OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").

/** One key line of a known_hosts file. */
export interface KnownHostsEntry {
  /** 1-based line number, for messages that point at the line. */
  lineNumber: number;
  /** `@cert-authority` / `@revoked`, when the line starts with one. */
  marker: '@cert-authority' | '@revoked' | undefined;
  /** The host field as written: comma-separated patterns or one hashed `|1|salt|hash` name. */
  hosts: string;
  /** Key type, e.g. `ssh-ed25519`. */
  keyType: string;
  /** Base64 of the public key blob. */
  keyBase64: string;
}

/** Parses known_hosts text, skipping blank lines, comments and lines it cannot read. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) {
      continue;
    }
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0] === '@cert-authority' || fields[0] === '@revoked') {
      marker = fields[0];
      fields.shift();
    }
    const [hosts, keyType, keyBase64] = fields;
    if (hosts === undefined || keyType === undefined || keyBase64 === undefined) {
      continue;
    }
    entries.push({ lineNumber: index + 1, marker, hosts, keyType, keyBase64 });
  }
  return entries;
}

/** The name OpenSSH looks up for `host:port`: `host` for port 22, else `[host]:port`. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** True when the host field of a known_hosts line matches `name` (see {@link knownHostsName}). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    return hashedHostMatches(hosts, name);
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (globMatches(negated ? pattern.slice(1) : pattern, name)) {
      if (negated) {
        return false;
      }
      matched = true;
    }
  }
  return matched;
}

// `|1|<base64 salt>|<base64 HMAC-SHA1(salt, name)>`, as written by `ssh-keygen -H`/HashKnownHosts.
function hashedHostMatches(hosts: string, name: string): boolean {
  const [, , salt, hash] = hosts.split('|');
  if (salt === undefined || hash === undefined) {
    return false;
  }
  const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return digest === hash;
}

// OpenSSH host patterns: `*` and `?` wildcards, case-insensitive.
function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`, 'i').test(name);
}

/** The outcome of looking a server's host key up in known_hosts. */
export type HostKeyCheck =
  /** A line for this host holds exactly this key. */
  | { status: 'trusted'; entry: KnownHostsEntry }
  /** A line for this host holds a different key of the same type: possible man-in-the-middle. */
  | { status: 'changed'; entry: KnownHostsEntry }
  /** The key is listed with `@revoked`. */
  | { status: 'revoked'; entry: KnownHostsEntry }
  /** No line for this host holds a key of this type; `knownTypes` lists the types that are known. */
  | { status: 'unknown'; knownTypes: string[] };

/** Looks the server key `keyBlob` for `name` up in `entries`, the way OpenSSH does. */
export function checkHostKey(
  entries: readonly KnownHostsEntry[],
  name: string,
  keyBlob: Buffer,
): HostKeyCheck {
  const keyType = sshKeyType(keyBlob);
  const keyBase64 = keyBlob.toString('base64');
  const forHost = entries.filter(
    (entry) => entry.marker !== '@cert-authority' && hostFieldMatches(entry.hosts, name),
  );
  const revoked = forHost.find((entry) => entry.marker === '@revoked' && entry.keyBase64 === keyBase64);
  if (revoked !== undefined) {
    return { status: 'revoked', entry: revoked };
  }
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const same = plain.find((entry) => entry.keyType === keyType && entry.keyBase64 === keyBase64);
  if (same !== undefined) {
    return { status: 'trusted', entry: same };
  }
  const changed = plain.find((entry) => entry.keyType === keyType);
  if (changed !== undefined) {
    return { status: 'changed', entry: changed };
  }
  return { status: 'unknown', knownTypes: [...new Set(plain.map((entry) => entry.keyType))] };
}

/** The key type named at the start of an SSH public key blob (e.g. `ssh-ed25519`). */
export function sshKeyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) {
    return 'unknown';
  }
  const length = keyBlob.readUInt32BE(0);
  return length > 0 && 4 + length <= keyBlob.length ? keyBlob.toString('latin1', 4, 4 + length) : 'unknown';
}

/** OpenSSH's fingerprint of a key blob: `SHA256:<unpadded base64>`. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line (with trailing newline) recording `keyBlob` for `name`. */
export function formatKnownHostsLine(name: string, keyBlob: Buffer): string {
  return `${name} ${sshKeyType(keyBlob)} ${keyBlob.toString('base64')}\n`;
}
