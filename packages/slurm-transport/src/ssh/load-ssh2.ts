import type Ssh2 from 'ssh2';

let loading: Promise<typeof Ssh2> | undefined;

/**
 * ssh2, loaded on first use. A bridge that reaches the cluster through the multiplexing daemon
 * never opens an SSH connection itself, and loading ssh2 (its crypto, SFTP and key parsers) is
 * a good part of the CLI's start-up time, which every Dagster step pays.
 */
export function loadSsh2(): Promise<typeof Ssh2> {
  loading ??= import('ssh2').then((module) => module.default);
  return loading;
}
