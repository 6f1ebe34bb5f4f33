/**
 * @file What the api client needs from a transport: call a method by name and get the Result
 * envelope back, and subscribe to service events. Two implementations: the Electron preload and
 * HTTP + WebSocket. Only lib/api.ts uses them.
 */
import type { ApiEventMessage } from '../../../shared/api';
import type { Result } from '../../../shared/errors';

export interface Transport {
  readonly shell: 'electron' | 'browser';
  call(method: string, args: unknown): Promise<Result<unknown>>;
  /** Returns the unsubscribe function. */
  onEvent(cb: (msg: ApiEventMessage) => void): () => void;
  /**
   * Called after the event stream was interrupted and is back (the server was restarted, the
   * laptop slept): events may have been missed, so listeners re-read state.
   */
  onReconnect(cb: () => void): () => void;
}
