import { describeEndpoint, type ResolvedEndpoint } from '../ssh/connection-options.js';
import {
  createDefaultResponder,
  type KeyboardInteractiveResponder,
  terminalAsker,
} from '../ssh/keyboard-interactive.js';

/**
 * This process's keyboard-interactive responder for each hop, by `user@host:port` (the
 * challenge's `target`): the configured one, or the default answering password prompts with the
 * password and one-time-code prompts from this process's environment or terminal. The daemon has
 * neither, so it relays challenges here.
 */
export function respondersFor(endpoint: ResolvedEndpoint): Map<string, KeyboardInteractiveResponder> {
  const responders = new Map<string, KeyboardInteractiveResponder>();
  for (let hop: ResolvedEndpoint | undefined = endpoint; hop !== undefined; hop = hop.jumpHost) {
    const { keyboardInteractive } = hop;
    if (keyboardInteractive === 'default') {
      responders.set(
        describeEndpoint(hop),
        createDefaultResponder({
          password: hop.password,
          otpEnvVar: hop.otpEnvVar,
          env: process.env,
          askTerminal: terminalAsker(),
        }),
      );
    } else if (keyboardInteractive !== false) {
      responders.set(describeEndpoint(hop), keyboardInteractive);
    }
  }
  return responders;
}
