/**
 * @file Transport over the preload's `window.boxtune` bridge (Electron IPC). IPC does not drop
 * events, so there is never a reconnect.
 */
import type { ApiMethod } from '../../../shared/api';
import type { Result } from '../../../shared/errors';
import type { BoxtuneBridge } from '../../../shared/api';
import type { Transport } from './transport';

export function createElectronTransport(bridge: BoxtuneBridge): Transport {
  return {
    shell: 'electron',
    call(method, args) {
      const fn = bridge[method as ApiMethod] as ((a: unknown) => Promise<Result<unknown>>) | undefined;
      if (typeof fn !== 'function') {
        return Promise.resolve({ ok: false, error: { code: 'UNKNOWN_METHOD', message: `unknown method ${method}` } });
      }
      return fn(args);
    },
    onEvent: (cb) => bridge.onEvent(cb),
    onReconnect: () => () => {},
  };
}
