/**
 * @file The Content-Security-Policy both shells send. One builder so the server's header, the
 * Electron session header and the index.html meta tag cannot drift apart in what they allow.
 */

export interface CspOptions {
  /** Browser mode: the server's port, so the page may open its WebSocket and nothing else. */
  port?: number;
  /** Electron mode: images come from the privileged `boxtune-image:` protocol. */
  electron?: boolean;
}

/**
 * Builds the policy. `'unsafe-inline'` for styles only: Svelte sets `style=` attributes for
 * positioning (the virtualized list); scripts stay `'self'` only.
 *
 * @example contentSecurityPolicy({ port: 5123 }) // "default-src 'self'; ... connect-src 'self' ws://127.0.0.1:5123 ws://localhost:5123; ..."
 */
export function contentSecurityPolicy(opts: CspOptions = {}): string {
  const img = ["'self'", 'blob:', 'data:'];
  if (opts.electron) img.push('boxtune-image:');
  const connect = ["'self'"];
  if (opts.port !== undefined) connect.push(`ws://127.0.0.1:${opts.port}`, `ws://localhost:${opts.port}`);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    `img-src ${img.join(' ')}`,
    `connect-src ${connect.join(' ')}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
