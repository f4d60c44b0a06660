// Profiling preload for the benchmark's "where does the bridge's time go" phase, used beside
// usage-recorder.mjs: `node --import usage-recorder.mjs --import profile-ssh.mjs cli.js ...`.
// In every process that loads ssh2 (the multiplexing daemon runs the commands) it records each
// remote command and SFTP session: when it was asked for, when its channel opened, when it
// closed. Lines go to $SLURM_PIPES_BENCH_PROFILE as JSON. The bridge and daemon processes also
// record their start and exit. Only observes: the wrapped calls are passed through unchanged.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.SLURM_PIPES_BENCH_PROFILE;
if (file) {
  const role = process.argv.includes('serve')
    ? 'daemon'
    : process.argv.includes('mux')
      ? 'mux-client'
      : 'bridge';
  const now = () => Date.now() / 1000;
  const write = (record) => {
    try {
      appendFileSync(
        file,
        `${JSON.stringify({ pid: process.pid, role, tag: process.env.SLURM_PIPES_BENCH_TAG ?? null, ...record })}\n`,
      );
    } catch {
      // Profiling must never change what the bridge does.
    }
  };
  write({ event: 'process-start', t: now() - process.uptime() });
  process.once('exit', () => write({ event: 'process-exit', t: now() }));

  const require = createRequire(import.meta.url);
  let Client;
  try {
    ({ Client } = require('ssh2'));
  } catch {
    Client = undefined;
  }
  if (Client !== undefined) {
    const exec = Client.prototype.exec;
    Client.prototype.exec = function (command, options, callback) {
      const cb = typeof options === 'function' ? options : callback;
      const opts = typeof options === 'function' ? {} : options;
      const asked = now();
      return exec.call(this, command, opts, (error, stream) => {
        const opened = now();
        if (error || !stream)
          write({
            event: 'exec',
            command: String(command).slice(0, 300),
            asked,
            opened,
            error: String(error),
          });
        else
          stream.once('close', () =>
            write({ event: 'exec', command: String(command).slice(0, 300), asked, opened, closed: now() }),
          );
        cb(error, stream);
      });
    };
    const sftp = Client.prototype.sftp;
    Client.prototype.sftp = function (callback) {
      const asked = now();
      return sftp.call(this, (error, session) => {
        const opened = now();
        if (error || !session) write({ event: 'sftp', asked, opened, error: String(error) });
        else session.once('close', () => write({ event: 'sftp', asked, opened, closed: now() }));
        callback(error, session);
      });
    };
  }
}
