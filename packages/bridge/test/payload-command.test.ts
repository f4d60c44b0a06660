import { describe, expect, it } from 'vitest';
import { BridgeError } from '../src/errors.js';
import { resolvePayloadCommand } from '../src/payload/payload-command.js';
import { fixture, repoRoot } from './helpers.js';

describe('resolvePayloadCommand', () => {
  it('runs .py with the configured python', () => {
    const c = resolvePayloadCommand([fixture('bad-lines.py'), 'arg'], { python: '/opt/py' });
    expect(c.kind).toBe('python');
    expect(c.argv).toEqual(['/opt/py', fixture('bad-lines.py'), 'arg']);
  });

  it('runs .ts through node with the tsx loader', () => {
    const c = resolvePayloadCommand(['examples/hello-worker.ts'], { cwd: repoRoot, nodeArgs: [] });
    expect(c.kind).toBe('typescript');
    expect(c.argv[0]).toBe(process.execPath);
    expect(c.argv[1]).toBe('--import');
    expect(c.argv[2]).toMatch(/tsx/);
    expect(c.argv[3]).toBe(`${repoRoot}/examples/hello-worker.ts`);
  });

  it('runs an executable as it is', () => {
    expect(resolvePayloadCommand([fixture('exit-code.sh'), '3']).argv).toEqual([
      fixture('exit-code.sh'),
      '3',
    ]);
  });

  it('treats a bare name as a command on PATH', () => {
    expect(resolvePayloadCommand(['true']).argv).toEqual(['true']);
  });

  it.each([
    [['/no/such/payload.py'], 'ERR_BRIDGE_PAYLOAD', 'does not exist'],
    [[fixture('bad-lines.py').replace('bad-lines.py', '')], 'ERR_BRIDGE_PAYLOAD', 'not a file'],
    [[`${repoRoot}/package.json`], 'ERR_BRIDGE_PAYLOAD', 'not executable'],
    [[], 'ERR_BRIDGE_USAGE', 'No payload given'],
  ])('rejects %j with %s', (argv, code, text) => {
    try {
      resolvePayloadCommand(argv);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(BridgeError);
      expect((e as BridgeError).code).toBe(code);
      expect((e as BridgeError).message).toContain(text);
    }
  });
});
