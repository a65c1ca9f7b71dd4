// The platform adapter against a fake `uni`: the bearer token, one shared refresh on 401 and then sign-in,
// errors in the API's shape, the mini-program's WeChat login → binding → token, and the upload through the S3 POST
// policy with uni.uploadFile.
import { describe, expect, it } from 'vitest'
import { ApiError, buildUrl, createApi, type TokenStore, type Tokens } from '@/platform/http'
import { wechatSignIn } from '@/platform/login'
import { uniSend } from '@/platform/uni'
import { uniPostForm, uploadImage, type PreparedImage } from '@/platform/upload'
import { createResidentAuth, type ResidentSession } from '@/stores/auth'
import { createSessionStore } from '@/stores/session'
import { uniStorage } from '@/platform/uni'
import { errorBody, FakeUni, json, residentToken, type Route } from './fakes'

const SLUG = 'demo'
const REFRESH = `/v1/public/tenants/${SLUG}/refresh`

function memoryTokens(initial: Tokens | null): TokenStore & { value: Tokens | null } {
  const store = {
    value: initial,
    get: () => store.value,
    set: (t: Tokens) => void (store.value = t),
    clear: () => void (store.value = null),
  }
  return store
}

function apiOn(u: FakeUni, tokens: TokenStore, onSignedOut = () => {}) {
  return createApi({ send: uniSend(u), tokens, refreshPath: () => REFRESH, onSignedOut, baseUrl: 'https://api.test' })
}

describe('buildUrl', () => {
  it('fills path parameters encoded and leaves out empty query values', () => {
    expect(buildUrl('/v1/me/tickets/{ticket_id}', { path: { ticket_id: 'tkt 1/2' } })).toBe('/v1/me/tickets/tkt%201%2F2')
    expect(buildUrl('/v1/tickets', { query: { assignee_id: 'me', cursor: null, status: undefined, limit: 20 } }))
      .toBe('/v1/tickets?assignee_id=me&limit=20')
  })

  it('refuses to send a request with a missing path parameter', () => {
    expect(() => buildUrl('/v1/me/tickets/{ticket_id}', { path: {} })).toThrow('ticket_id')
  })
})

describe('requests', () => {
  it('sends the bearer token and JSON body and returns the typed body', async () => {
    const u = new FakeUni({ 'POST /v1/me/tickets': () => json(201, { id: 'tkt_1', number: '2611270001' }) })
    const api = apiOn(u, memoryTokens({ access_token: 'a1', refresh_token: 'r1' }))
    const ticket = await api.post('/v1/me/tickets', {
      headers: { 'Idempotency-Key': 'k-1' },
      body: { kind: 'repair', description: '漏水', location: { community_id: 'cmt_1', unit_id: 'unt_1' } } })
    expect(ticket.number).toBe('2611270001')
    const [sent] = u.requests
    expect(sent.url).toBe('https://api.test/v1/me/tickets')
    expect(sent.header).toMatchObject({ Authorization: 'Bearer a1', 'Idempotency-Key': 'k-1',
                                        'Content-Type': 'application/json' })
    expect(sent.data).toMatchObject({ kind: 'repair', description: '漏水' })
  })

  it('turns an error answer into ApiError with its code, message and Retry-After', async () => {
    const u = new FakeUni({ 'POST /v1/public/tenants/demo/otp': () =>
      json(429, errorBody('otp_cooldown', 'Wait a minute'), { 'Retry-After': '42' }) })
    const api = apiOn(u, memoryTokens(null))
    const err = await api.post('/v1/public/tenants/{slug}/otp', { params: { path: { slug: SLUG } },
      body: { phone: '13800000001' } }).catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect([err.status, err.code, err.message, err.retryAfter]).toEqual([429, 'otp_cooldown', 'Wait a minute', 42])
  })

  it('reports a network failure as network_error', async () => {
    const u = new FakeUni()
    u.offline = true
    const err = await apiOn(u, memoryTokens(null)).get('/v1/me').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect([err.status, err.code]).toEqual([0, 'network_error'])
  })
})

describe('refresh on 401', () => {
  function expiring(): Record<string, Route> {
    return {
      'GET /v1/me/tickets': (call) => call.header.Authorization === 'Bearer a2'
        ? json(200, { items: [], next_cursor: null }) : json(401, errorBody('unauthenticated')),
      [`POST ${REFRESH}`]: (call) => (call.data as { refresh_token: string }).refresh_token === 'r1'
        ? json(200, { ...residentToken(2), access_token: 'a2', refresh_token: 'r2' })
        : json(401, errorBody('invalid_refresh_token')),
    }
  }

  it('renews once for every request in flight and retries each with the new token', async () => {
    const u = new FakeUni(expiring())
    const tokens = memoryTokens({ access_token: 'a1', refresh_token: 'r1' })
    const api = apiOn(u, tokens)
    const pages = await Promise.all([api.get('/v1/me/tickets'), api.get('/v1/me/tickets'), api.get('/v1/me/tickets')])
    expect(pages.map((p) => p.items)).toEqual([[], [], []])
    expect(u.calls('POST', REFRESH)).toHaveLength(1) // a refresh token works once
    expect(tokens.value).toEqual({ access_token: 'a2', refresh_token: 'r2' })
  })

  it('ends the session when the refresh is refused, and says so once', async () => {
    const u = new FakeUni(expiring())
    const tokens = memoryTokens({ access_token: 'a0', refresh_token: 'spent' })
    let signedOut = 0
    const api = apiOn(u, tokens, () => signedOut++)
    const err = await api.get('/v1/me/tickets').catch((e) => e)
    expect(err.status).toBe(401)
    expect(tokens.value).toBeNull()
    expect(signedOut).toBe(1)
  })

  it('does not try to refresh a request made without a session', async () => {
    const u = new FakeUni(expiring())
    const err = await apiOn(u, memoryTokens(null)).get('/v1/me/tickets').catch((e) => e)
    expect(err.status).toBe(401)
    expect(u.calls('POST', REFRESH)).toHaveLength(0)
  })
})

describe('mini-program sign-in (fake uni)', () => {
  function wechatRoutes(bound: Set<string>): Record<string, Route> {
    return {
      'POST /v1/public/tenants/demo/wechat/login': (call) => bound.has((call.data as { code: string }).code)
        ? json(200, residentToken(1))
        : json(409, errorBody('binding_required', 'Sign in once with your phone', { binding_token: 'bind-1' })),
      'POST /v1/public/tenants/demo/otp': () => json(202, { resend_after: 60, expires_in: 300 }),
      'POST /v1/public/tenants/demo/otp/verify': (call) => {
        const body = call.data as { code: string; wechat_binding_token: string | null }
        if (body.code !== '123456') return json(401, errorBody('invalid_code'))
        if (body.wechat_binding_token === 'bind-1') bound.add('wx-code-2')
        return json(200, residentToken(1))
      },
    }
  }

  it('login → binding_required → phone code with the binding token → signed in; the next login needs no code', async () => {
    const bound = new Set<string>()
    const u = new FakeUni(wechatRoutes(bound))
    u.loginCodes = ['wx-code-1', 'wx-code-2']
    const storage = uniStorage(u)
    const session = createSessionStore<ResidentSession>(storage, 'linli.demo.resident')
    const api = apiOn(u, session.tokens)
    const auth = createResidentAuth({ api, session, storage, slug: SLUG, now: () => 0 })

    expect(await auth.signInWithWechat(u)).toBe('binding_required')
    expect(auth.state.bindingToken).toBe('bind-1')
    expect(session.current.value).toBeNull()

    await auth.sendCode('138 0000 0001')
    await auth.verify('13800000001', '123456')
    const verify = u.calls('POST', '/v1/public/tenants/demo/otp/verify')[0]
    expect(verify.data).toEqual({ phone: '13800000001', code: '123456', wechat_binding_token: 'bind-1' })
    expect(auth.state.bindingToken).toBeNull()
    expect(session.current.value?.access_token).toBe('access-1')

    auth.session.signOut()
    expect(await auth.signInWithWechat(u)).toBe('signed_in')
    expect(session.current.value?.name).toBe('陈阿姨')
    expect(JSON.parse(u.store.get('linli.demo.resident') as string).refresh_token).toBe('refresh-1')
  })

  it('passes any other error on', async () => {
    const u = new FakeUni({ 'POST /v1/public/tenants/demo/wechat/login': () => json(404, errorBody('not_found')) })
    const err = await wechatSignIn(u, apiOn(u, memoryTokens(null)), SLUG).catch((e) => e)
    expect(err.code).toBe('not_found')
  })
})

describe('upload through the S3 POST policy', () => {
  const photo: PreparedImage = { path: 'wxfile://tmp/leak.jpg', size: 182_000, type: 'image/jpeg', width: 1600,
                                 height: 1200 }
  const grant = { id: 'att_1', url: 'https://bucket.test/', expires_in: 300,
                  fields: { key: 'tnt_1/att_1', 'Content-Type': 'image/jpeg', policy: 'p', 'x-amz-signature': 's' } }

  it('asks for a grant sized to the resized photo and posts it with uni.uploadFile', async () => {
    const u = new FakeUni({ 'POST /v1/me/attachments': () => json(201, grant) })
    const api = apiOn(u, memoryTokens({ access_token: 'a1', refresh_token: 'r1' }))
    const id = await uploadImage(api, uniPostForm(u), photo)
    expect(id).toBe('att_1')
    expect(u.calls('POST', '/v1/me/attachments')[0].data).toEqual({ content_type: 'image/jpeg', size: 182_000 })
    expect(u.uploads).toHaveLength(1)
    expect(u.uploads[0]).toMatchObject({ url: 'https://bucket.test/', filePath: 'wxfile://tmp/leak.jpg', name: 'file',
                                         formData: grant.fields })
  })

  it('fails with upload_failed when the bucket refuses the file', async () => {
    const u = new FakeUni({ 'POST /v1/attachments': () => json(201, grant) })
    u.uploadStatus = 403
    const api = apiOn(u, memoryTokens({ access_token: 'a1', refresh_token: 'r1' }))
    const err = await uploadImage(api, uniPostForm(u), photo, '/v1/attachments').catch((e) => e)
    expect([err.status, err.code]).toEqual([403, 'upload_failed'])
  })
})
