/**
 * @file Per-launch token auth for the local server. The token arrives once in the launch URL,
 * is swapped for an HttpOnly SameSite=Strict cookie, and every later request must carry the
 * cookie or an `Authorization: Bearer` header.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** 24 random bytes, base64url: 32 characters, unguessable, safe in a URL and a cookie. */
export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Compares in constant time. Both sides are hashed first so that neither the length nor a
 * common prefix of a wrong guess shows in the timing.
 */
export function tokensEqual(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/**
 * The cookie's name carries the port: cookies are shared by every port of a host, so two boxtune
 * servers on 127.0.0.1 would otherwise overwrite each other's token and log the other tab out.
 */
export function cookieName(port: number): string {
  return `boxtune_token_${port}`;
}

export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** Reads one cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request carries the token in our cookie or as a Bearer header. */
export function isAuthorized(req: IncomingMessage, port: number, token: string): boolean {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && tokensEqual(token, auth.slice('Bearer '.length).trim())) return true;
  const fromCookie = readCookie(req.headers.cookie, cookieName(port));
  return fromCookie !== undefined && tokensEqual(token, fromCookie);
}

/**
 * DNS-rebinding guard: a page on evil.example that rebinds its name to 127.0.0.1 sends
 * `Host: evil.example:<port>`, so only our own two spellings of the address are accepted.
 */
export function isAllowedHost(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/**
 * CSRF guard for state-changing requests (POST, WebSocket): a browser always sends Origin on
 * those, and it must be the page's own origin. Non-browser clients send none and pass on to auth.
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${req.headers.host ?? ''}`;
}
