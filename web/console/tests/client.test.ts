import { describe, expect, it } from 'vitest'
import { ApiError, createApi, pollOnce, unwrap, type TokenStore, type Tokens } from '../src/api/client'

function memoryStore(initial: Tokens | null): TokenStore & { value: Tokens | null } {
  return {
    value: initial,
    get() { return this.value },
    set(tokens) { this.value = tokens },
    clear() { this.value = null },
  }
}

interface Seen { method: string; path: string; auth: string | null; body: string }

/** A fake server: answers by path, records what it was sent. */
function fakeServer(handler: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = []
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(String(input), init)
    const entry = { method: req.method, path: new URL(req.url).pathname, auth: req.headers.get('Authorization'), body: await req.text() }
    seen.push(entry)
    return handler(entry, seen.length)
  }
  return { seen, fetch: fetchFn as typeof fetch }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(status === 304 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } })
const noLock = <T>(_: string, fn: () => Promise<T>) => fn()

describe('the API client', () => {
  it('sends the access token', async () => {
    const server = fakeServer(() => json(200, { id: 'usr_1' }))
    const api = createApi({ baseUrl: 'http://x', tokens: memoryStore({ access_token: 'A1', refresh_token: 'R1' }), fetch: server.fetch, lock: noLock })
    await unwrap(api.GET('/v1/me'))
    expect(server.seen[0].auth).toBe('Bearer A1')
  })

  it('refreshes once on 401 and retries the request with its body, then keeps the new tokens', async () => {
    const tokens = memoryStore({ access_token: 'A1', refresh_token: 'R1' })
    const server = fakeServer((req) => {
      if (req.path === '/v1/auth/refresh') return json(200, { access_token: 'A2', refresh_token: 'R2', expires_in: 900 })
      return req.auth === 'Bearer A2' ? json(201, { id: 'c1' }) : json(401, { error: { code: 'token_expired', message: 'expired' } })
    })
    const api = createApi({ baseUrl: 'http://x', tokens, fetch: server.fetch, lock: noLock })
    const comment = await unwrap(api.POST('/v1/tickets/{ticket_id}/comments', {
      params: { path: { ticket_id: 'tkt_1' } }, body: { body: '您好', visibility: 'public' },
    }))
    expect(comment).toEqual({ id: 'c1' })
    expect(server.seen.map((s) => s.path)).toEqual(['/v1/tickets/tkt_1/comments', '/v1/auth/refresh', '/v1/tickets/tkt_1/comments'])
    expect(JSON.parse(server.seen[1].body)).toEqual({ refresh_token: 'R1' })
    expect(JSON.parse(server.seen[2].body)).toEqual({ body: '您好', visibility: 'public' }) // the half-written reply is sent, not lost
    expect(tokens.value).toEqual({ access_token: 'A2', refresh_token: 'R2' })
  })

  it('spends the refresh token once however many requests failed together', async () => {
    const tokens = memoryStore({ access_token: 'A1', refresh_token: 'R1' })
    let refreshes = 0
    const server = fakeServer(async (req) => {
      if (req.path === '/v1/auth/refresh') {
        refreshes += 1
        await new Promise((r) => setTimeout(r, 10))
        return json(200, { access_token: 'A2', refresh_token: 'R2', expires_in: 900 })
      }
      return req.auth === 'Bearer A2' ? json(200, { ok: req.path }) : json(401, { error: { code: 'token_expired' } })
    })
    const api = createApi({ baseUrl: 'http://x', tokens, fetch: server.fetch, lock: noLock })
    const results = await Promise.all([unwrap(api.GET('/v1/me')), unwrap(api.GET('/v1/tenant')), unwrap(api.GET('/v1/staff'))])
    expect(results.length).toBe(3)
    expect(refreshes).toBe(1)
  })

  it('signs out when the refresh is refused, and reports it once', async () => {
    const tokens = memoryStore({ access_token: 'A1', refresh_token: 'R1' })
    let signedOut = 0
    const server = fakeServer((req) => req.path === '/v1/auth/refresh'
      ? json(401, { error: { code: 'refresh_revoked', message: 'revoked' } })
      : json(401, { error: { code: 'token_revoked', message: 'revoked' } }))
    const api = createApi({ baseUrl: 'http://x', tokens, fetch: server.fetch, lock: noLock, onSignedOut: () => (signedOut += 1) })
    const error = await unwrap(api.GET('/v1/me')).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).isSignedOut).toBe(true)
    expect(signedOut).toBe(1)
    expect(tokens.value).toBeNull()
  })

  it('does not refresh for a failed sign-in', async () => {
    const server = fakeServer(() => json(401, { error: { code: 'invalid_credentials', message: '邮箱或密码不正确' } }))
    const api = createApi({ baseUrl: 'http://x', tokens: memoryStore({ access_token: 'A1', refresh_token: 'R1' }), fetch: server.fetch, lock: noLock })
    const error = (await unwrap(api.POST('/v1/auth/login', { body: { tenant_slug: 'demo', email: 'a@b.c', password: 'x' } })).catch((e) => e)) as ApiError
    expect(error.code).toBe('invalid_credentials')
    expect(server.seen.length).toBe(1)
  })

  it('lets another tab\'s refresh count: no second spend when the stored token already changed', async () => {
    const tokens = memoryStore({ access_token: 'A1', refresh_token: 'R1' })
    const server = fakeServer((req) => {
      if (req.path === '/v1/auth/refresh') throw new Error('must not refresh again')
      return req.auth === 'Bearer A9' ? json(200, {}) : json(401, { error: { code: 'token_expired' } })
    })
    const otherTab = <T>(_: string, fn: () => Promise<T>) => { tokens.set({ access_token: 'A9', refresh_token: 'R9' }); return fn() }
    const api = createApi({ baseUrl: 'http://x', tokens, fetch: server.fetch, lock: otherTab })
    await unwrap(api.GET('/v1/me'))
    expect(server.seen.map((s) => s.auth)).toEqual(['Bearer A1', 'Bearer A9'])
  })

  it('turns a 412 into a stale error and a 409 into a conflict, with the API message and request id', async () => {
    const server = fakeServer((_, n) => n === 1
      ? json(412, { error: { code: 'version_mismatch', message: 'changed', request_id: 'r1' } })
      : json(409, { error: { code: 'illegal_transition', message: '已受理的工单不能再次受理', request_id: 'r2' } }))
    const api = createApi({ baseUrl: 'http://x', tokens: memoryStore({ access_token: 'A', refresh_token: 'R' }), fetch: server.fetch, lock: noLock })
    const act = () => unwrap(api.POST('/v1/tickets/{ticket_id}/actions/{action}', {
      params: { path: { ticket_id: 't', action: 'acknowledge' } }, headers: { 'If-Match': '3' }, body: {},
    })).catch((e) => e as ApiError)
    const stale = await act()
    expect(stale.isStale && !stale.isConflict && stale.requestId === 'r1').toBe(true)
    const conflict = await act()
    expect(conflict.isConflict && conflict.message === '已受理的工单不能再次受理').toBe(true)
  })

  it('reads field errors of a 422 and Retry-After of a 429', () => {
    const invalid = new ApiError(422, { error: { code: 'invalid', message: 'bad', details: [{ loc: ['body', 'phone'], msg: '手机号格式不正确' }] } })
    expect(invalid.fieldErrors()).toEqual({ phone: '手机号格式不正确' })
    expect(new ApiError(429, null, 30).retryAfter).toBe(30)
  })

  it('polls with If-None-Match: 304 means unchanged, 200 brings the page and the new ETag', async () => {
    const server = fakeServer((_, n) => n === 1 ? json(304, null, { ETag: '"e1"' }) : json(200, { items: [1] }, { ETag: '"e2"' }))
    const api = createApi({ baseUrl: 'http://x', tokens: memoryStore({ access_token: 'A', refresh_token: 'R' }), fetch: server.fetch, lock: noLock })
    const same = await pollOnce(api.GET('/v1/tickets', { headers: { 'If-None-Match': '"e1"' } }), '"e1"')
    expect(same).toEqual({ changed: false, data: null, etag: '"e1"' })
    const next = await pollOnce(api.GET('/v1/tickets', { headers: { 'If-None-Match': '"e1"' } }), '"e1"')
    expect(next).toEqual({ changed: true, data: { items: [1] }, etag: '"e2"' })
  })

  it('reports an unreachable server as a network error', async () => {
    const api = createApi({ baseUrl: 'http://x', tokens: memoryStore(null), fetch: (() => Promise.reject(new TypeError('Failed to fetch'))) as typeof fetch, lock: noLock })
    const error = (await unwrap(api.GET('/v1/me')).catch((e) => e)) as ApiError
    expect(error.code).toBe('network_error')
  })
})
