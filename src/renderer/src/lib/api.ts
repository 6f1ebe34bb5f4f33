/**
 * @file The one Api client. Typed from the shared `Api` interface; each call unwraps the Result
 * envelope and throws `AppError` (with its code) on failure, so the UI branches on `err.code`.
 * This is the only module that knows which transport carries the calls.
 */
import { API_METHODS, type ApiArgs, type ApiEventMessage, type ApiEventName, type ApiEvents, type ApiMethod, type ApiValue } from '../../../shared/api';
import { AppError } from '../../../shared/errors';
import { TILE_EXT, type ImageRecord } from '../../../shared/types';
import type { Transport } from './transport';
import { createElectronTransport } from './transport-electron';
import { createHttpTransport } from './transport-http';

export type ApiClient = {
  readonly [M in ApiMethod]: (args: ApiArgs<M>) => Promise<ApiValue<M>>;
};

/**
 * Builds a client with one function per method in API_METHODS. Arguments must be plain data:
 * pass `$state.snapshot(x)`, not a `$state` proxy (IPC cannot clone proxies).
 *
 * @example
 * const api = createApiClient(createHttpTransport());
 * const page = await api['images.page']({ offset: 0, limit: 200 });
 */
export function createApiClient(transport: Transport): ApiClient {
  const client: Record<string, (args: unknown) => Promise<unknown>> = {};
  for (const method of API_METHODS) {
    client[method] = async (args) => {
      const result = await transport.call(method, args ?? {});
      if (!result.ok) throw AppError.fromInfo(result.error);
      return result.value;
    };
  }
  return Object.freeze(client) as ApiClient;
}

const transport: Transport = window.boxtune ? createElectronTransport(window.boxtune) : createHttpTransport();

export const api: ApiClient = createApiClient(transport);

export const shell: 'electron' | 'browser' = transport.shell;

/** Subscribes to one kind of service event; returns the unsubscribe function. */
export function onEvent<E extends ApiEventName>(event: E, cb: (data: ApiEvents[E]) => void): () => void {
  return transport.onEvent((msg: ApiEventMessage) => {
    if (msg.event === event) cb(msg.data as ApiEvents[E]);
  });
}

/** Called when the event stream comes back after a drop: re-read whatever may have changed. */
export function onReconnect(cb: () => void): () => void {
  return transport.onReconnect(cb);
}

/**
 * URL of an image's bytes: the privileged protocol in Electron, the authenticated route in a
 * browser. The content hash rides along so that a cached response is never reused for another
 * file (image ids restart in every project).
 */
export function imageUrl(image: Pick<ImageRecord, 'id' | 'hash'>): string {
  return assetUrl(image, 'file');
}

/** URL of an image's WebP thumbnail (longest side 256), made by the server on first request. */
export function thumbUrl(image: Pick<ImageRecord, 'id' | 'hash'>): string {
  return assetUrl(image, 'thumb');
}

/** URL of the downscaled copy (longest side 2048) of an image whose `images.view` has a `preview`. */
export function previewUrl(image: Pick<ImageRecord, 'id' | 'hash'>): string {
  return assetUrl(image, 'preview');
}

/**
 * URL of one DeepZoom tile of an image whose `images.view` has `tiles`: level 0..levels-1, column
 * and row from the top-left (shared/deepzoom.ts has the level math).
 */
export function tileUrl(image: Pick<ImageRecord, 'id' | 'hash'>, level: number, col: number, row: number): string {
  return assetUrl(image, `tiles/${level}/${col}_${row}.${TILE_EXT}`);
}

function assetUrl(image: Pick<ImageRecord, 'id' | 'hash'>, asset: string): string {
  const version = `v=${encodeURIComponent(image.hash.slice(0, 16))}`;
  if (shell === 'electron') return `boxtune-image://${image.id}/${asset === 'file' ? '' : asset}?${version}`;
  return `/api/images/${image.id}/${asset}?${version}`;
}

/** The message to show for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
