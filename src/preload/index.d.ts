/**
 * @file The shape of `window.boxtune`, the preload's bridge. The renderer's tsconfig includes this
 * file (types only), never the preload's code.
 */
import type { ApiArgs, ApiEventMessage, ApiMethod, ApiValue } from '../shared/api';
import type { Result } from '../shared/errors';

export type BoxtuneBridge = {
  readonly [M in ApiMethod]: (args: ApiArgs<M>) => Promise<Result<ApiValue<M>>>;
} & {
  /** Subscribes to service events; returns the unsubscribe function. */
  onEvent(cb: (msg: ApiEventMessage) => void): () => void;
};

declare global {
  interface Window {
    /** Present only inside the Electron window. */
    boxtune?: BoxtuneBridge;
  }
}
