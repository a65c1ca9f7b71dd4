// The resident's sign-in store: the resend countdown the API sets (and the wait a 429 names), the session kept in
// storage per tenant, sign-out spending the refresh token, and the page to come back to.
import { describe, expect, it } from 'vitest'
import { ApiError, createApi } from '@/platform/http'
import { memoryStorage, uniSend } from '@/platform/uni'
import { explain } from '@/lib/errors'
import { createResidentAuth, type ResidentSession } from '@/stores/auth'
import { createSessionStore } from '@/stores/session'
import { errorBody, FakeUni, json, residentToken, type Route } from './fakes'

function setUp(routes: Record<string, Route>, start = 1_000_000) {
  const u = new FakeUni(routes)
  const storage = memoryStorage()
  const session = createSessionStore<ResidentSession>(storage, 'linli.demo.resident')
  const api = createApi({ send: uniSend(u), tokens: session.tokens, refreshPath: () => '/v1/public/tenants/demo/refresh' })
  const clock = { now: start }
  const auth = createResidentAuth({ api, session, storage, slug: 'demo', now: () => clock.now })
  return { u, storage, session, auth, clock }
}

describe('asking for a code', () => {
  it('counts down the resend wait the API gives, second by second', async () => {
    const { auth, clock, u } = setUp({ 'POST /v1/public/tenants/demo/otp': () => json(202, { resend_after: 60 }) })
    expect(auth.secondsLeft()).toBe(0)
    await auth.sendCode('138-0000-0001')
    expect(u.requests[0].data).toEqual({ phone: '13800000001' })
    expect(auth.secondsLeft()).toBe(60)
    clock.now += 59_200
    expect(auth.secondsLeft()).toBe(1)
    clock.now += 800
    expect(auth.secondsLeft()).toBe(0)
  })

  it('on a 429 waits as long as Retry-After says and explains it in plain words', async () => {
    const { auth } = setUp({ 'POST /v1/public/tenants/demo/otp': () =>
      json(429, errorBody('otp_phone_limit'), { 'Retry-After': '600' }) })
    const err = await auth.sendCode('13800000001').catch((e) => e)
    expect(auth.secondsLeft()).toBe(600)
    expect(explain(err)).toBe('这个手机号短时间内获取验证码次数太多，请 10 分钟后再试')
    expect(auth.state.sending).toBe(false)
  })

  it('explains the daily pause, a locked code and the ticket limit; anything unknown stays vague', () => {
    expect(explain(new ApiError(429, errorBody('otp_daily_limit')))).toBe('今天的验证码发送已暂停，请明天再试，或拨打物业电话')
    expect(explain(new ApiError(429, errorBody('otp_locked')))).toBe('验证码输错次数太多，请重新获取验证码')
    expect(explain(new ApiError(429, errorBody('daily_ticket_limit')))).toContain('已达上限')
    expect(explain(new Error('boom'))).toBe('出了点问题，请稍后再试')
  })
})

describe('signing in', () => {
  const routes: Record<string, Route> = {
    'POST /v1/public/tenants/demo/otp/verify': (call) => (call.data as { code: string }).code === '654321'
      ? json(200, residentToken(1)) : json(401, errorBody('invalid_code')),
    'POST /v1/public/tenants/demo/logout': () => json(204, ''),
  }

  it('keeps the session (tokens, name, units) in storage under the tenant', async () => {
    const { auth, storage, session } = setUp(routes)
    await auth.verify('13800000001', ' 654321 ')
    expect(session.signedIn.value).toBe(true)
    const kept = storage.get<ResidentSession>('linli.demo.resident')
    expect(kept).toMatchObject({ access_token: 'access-1', refresh_token: 'refresh-1', name: '陈阿姨' })
    expect(kept?.units[0].label).toBe('翠苑1栋1单元101')
  })

  it('a wrong code leaves no session and says why', async () => {
    const { auth, session } = setUp(routes)
    const err = await auth.verify('13800000001', '000000').catch((e) => e)
    expect(session.current.value).toBeNull()
    expect(explain(err)).toBe('验证码不对或已过期，请检查后重试')
    expect(auth.state.verifying).toBe(false)
  })

  it('signing out forgets the session and spends the refresh token at the API', async () => {
    const { auth, storage, u } = setUp(routes)
    await auth.verify('13800000001', '654321')
    await auth.signOut()
    expect(storage.get('linli.demo.resident')).toBeNull()
    expect(u.calls('POST', '/v1/public/tenants/demo/logout')[0].data).toEqual({ refresh_token: 'refresh-1' })
  })

  it('a renewed token replaces the old one and keeps the rest of the session', () => {
    const { session } = setUp(routes)
    session.signIn({ ...residentToken(1) })
    session.tokens.set({ access_token: 'access-2', refresh_token: 'refresh-2' })
    expect(session.current.value).toMatchObject({ access_token: 'access-2', refresh_token: 'refresh-2', name: '陈阿姨' })
  })

  it('remembers the page to return to, once', () => {
    const { auth } = setUp(routes)
    auth.rememberReturn('/pages/tickets/detail?id=tkt_1')
    expect(auth.takeReturn()).toBe('/pages/tickets/detail?id=tkt_1')
    expect(auth.takeReturn()).toBeNull()
  })
})
