import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAllowedHost, isAuthorized, isSameOrigin, newToken, readCookie, tokensEqual } from '../../../src/main/server/auth';
import { contentSecurityPolicy } from '../../../src/main/server/csp';
import { resolveInside } from '../../../src/main/server/static-files';

const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

describe('tokens', () => {
  it('are 32 url-safe characters and differ per launch', () => {
    const a = newToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(newToken()).not.toBe(a);
  });

  it('compare equal only when identical, whatever the lengths', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('abc', 'abcd')).toBe(false);
    expect(tokensEqual('abc', '')).toBe(false);
  });
});

describe('request checks', () => {
  it('reads one cookie among several', () => {
    expect(readCookie('a=1; boxtune_token_80=xyz; b=2', 'boxtune_token_80')).toBe('xyz');
    expect(readCookie('a=1', 'boxtune_token_80')).toBeUndefined();
    expect(readCookie(undefined, 'x')).toBeUndefined();
  });

  it('authorizes by Bearer header or by the cookie of this port', () => {
    expect(isAuthorized(req({ authorization: 'Bearer t0k' }), 80, 't0k')).toBe(true);
    expect(isAuthorized(req({ authorization: 'Basic t0k' }), 80, 't0k')).toBe(false);
    expect(isAuthorized(req({ cookie: 'boxtune_token_80=t0k' }), 80, 't0k')).toBe(true);
    expect(isAuthorized(req({ cookie: 'boxtune_token_81=t0k' }), 80, 't0k')).toBe(false);
    expect(isAuthorized(req({}), 80, 't0k')).toBe(false);
  });

  it('accepts only our own Host spellings and same-origin Origins', () => {
    expect(isAllowedHost(req({ host: '127.0.0.1:80' }), 80)).toBe(true);
    expect(isAllowedHost(req({ host: 'localhost:80' }), 80)).toBe(true);
    expect(isAllowedHost(req({ host: 'evil.example:80' }), 80)).toBe(false);
    expect(isAllowedHost(req({ host: '127.0.0.1' }), 80)).toBe(false);
    expect(isAllowedHost(req({}), 80)).toBe(false);
    expect(isSameOrigin(req({ host: '127.0.0.1:80' }))).toBe(true);
    expect(isSameOrigin(req({ host: '127.0.0.1:80', origin: 'http://127.0.0.1:80' }))).toBe(true);
    expect(isSameOrigin(req({ host: '127.0.0.1:80', origin: 'http://localhost:80' }))).toBe(false);
    expect(isSameOrigin(req({ host: '127.0.0.1:80', origin: 'null' }))).toBe(false);
  });
});

describe('resolveInside', () => {
  const root = path.resolve('/srv/ui');
  it('maps paths inside the folder and refuses the rest', () => {
    expect(resolveInside(root, '/assets/app.js')).toBe(path.join(root, 'assets', 'app.js'));
    expect(resolveInside(root, '/')).toBe(root);
    expect(resolveInside(root, '/..%2f..%2fetc/passwd')).toBeNull();
    expect(resolveInside(root, '/assets/../../x')).toBeNull();
    expect(resolveInside(root, '/%2e%2e/x')).toBeNull();
    expect(resolveInside(root, '/a%00b')).toBeNull();
    expect(resolveInside(root, '/%E0%A4%A')).toBeNull(); // malformed escape
    expect(resolveInside(root, '/assets/../index.html')).toBe(path.join(root, 'index.html'));
  });
});

describe('contentSecurityPolicy', () => {
  it('allows the WebSocket of its own port only, and the image protocol only in Electron', () => {
    const web = contentSecurityPolicy({ port: 4321 });
    expect(web).toContain("connect-src 'self' ws://127.0.0.1:4321 ws://localhost:4321;");
    expect(web).not.toContain('boxtune-image:');
    expect(contentSecurityPolicy({ electron: true })).toContain("img-src 'self' blob: data: boxtune-image:;");
    expect(contentSecurityPolicy({ electron: true })).toContain("connect-src 'self';");
  });
});
