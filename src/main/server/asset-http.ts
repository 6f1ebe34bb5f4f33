/**
 * @file How image assets go over HTTP (the browser-mode server and Electron's image protocol):
 * their cache headers and the status for each error code.
 */
import type { ErrorCode } from '../../shared/errors';

/**
 * Cache-Control for a derived file. URLs carry `?v=<first 16 hex of the hash>` (lib/api.ts); ids
 * restart in every project, so the version is what makes a URL name one content:
 * - the right version: the bytes never change, cache for a year;
 * - no version: like the original file, an hour;
 * - another version (a URL from another project): answer, but never cache it under that URL.
 */
export function assetCacheControl(hash: string, version: string | null): string {
  if (version === null) return 'private, max-age=3600';
  return version === hash.slice(0, 16) ? 'private, max-age=31536000, immutable' : 'no-store';
}

/** The HTTP status for an error thrown while resolving an asset. */
export function assetErrorStatus(code: ErrorCode): number {
  switch (code) {
    case 'INVALID_INPUT':
      return 400;
    case 'NOT_FOUND':
    case 'FILE_NOT_FOUND':
      return 404;
    case 'NO_PROJECT':
      return 409;
    case 'FILE_UNREADABLE':
      return 422;
    default:
      return 500;
  }
}
