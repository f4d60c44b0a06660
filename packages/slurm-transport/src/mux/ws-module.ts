import { createRequire } from 'node:module';
import type { WebSocket, WebSocketServer } from 'ws';

/** The parts of the `ws` package slurm-pipes uses. */
export interface WsPackage {
  WebSocket: typeof WebSocket;
  WebSocketServer: typeof WebSocketServer;
}

/**
 * The `ws` package, loaded with `require`. Importing it as an ES module goes through its
 * wrapper and makes Node scan each of its CommonJS files for named exports: ~30 ms of a bridge's
 * start-up against ~12 ms this way, paid by every Dagster step.
 */
export const wsPackage: WsPackage = createRequire(import.meta.url)('ws');
