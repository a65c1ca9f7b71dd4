// The resident's sign-in: asking for a code (with the resend countdown the API sets), exchanging it for a
// session, WeChat sign-in and its one-time binding, signing out, and where to go back to after signing in again.
import { reactive } from 'vue'
import type { ResidentToken, ResidentUnit } from '@/api/types'
import { ApiError, type Api, type Tokens } from '@/platform/http'
import { requestCode, verifyCode, wechatSignIn } from '@/platform/login'
import type { Storage, UniLike } from '@/platform/uni'
import { normalisePhone } from '@/lib/validation'
import type { SessionStore } from './session'

export interface ResidentSession extends Tokens {
  resident_id: string
  name: string
  units: ResidentUnit[]
}

export function residentSessionOf(token: ResidentToken): ResidentSession {
  return { access_token: token.access_token, refresh_token: token.refresh_token, resident_id: token.resident_id,
           name: token.name, units: token.units }
}

export interface AuthDeps {
  api: Api
  session: SessionStore<ResidentSession>
  storage: Storage
  slug: string
  now?: () => number
}

export function createResidentAuth({ api, session, storage, slug, now = Date.now }: AuthDeps) {
  const state = reactive({ resendAt: 0, sending: false, verifying: false, bindingToken: null as string | null })
  const returnKey = `linli.${slug}.return`

  /** Seconds until another code may be asked for (0: now). */
  function secondsLeft(at = now()): number {
    return Math.max(0, Math.ceil((state.resendAt - at) / 1000))
  }

  async function sendCode(phone: string): Promise<void> {
    state.sending = true
    try {
      const sent = await requestCode(api, slug, normalisePhone(phone))
      state.resendAt = now() + (sent.resend_after ?? 60) * 1000
    } catch (err) {
      if (err instanceof ApiError && err.status === 429 && err.retryAfter) {
        state.resendAt = now() + err.retryAfter * 1000 // the countdown shows the wait the API asks for
      }
      throw err
    } finally {
      state.sending = false
    }
  }

  async function verify(phone: string, code: string): Promise<ResidentSession> {
    state.verifying = true
    try {
      const token = await verifyCode(api, slug, normalisePhone(phone), code.trim(), state.bindingToken)
      const signedIn = residentSessionOf(token)
      session.signIn(signedIn)
      state.bindingToken = null
      return signedIn
    } finally {
      state.verifying = false
    }
  }

  /** Mini-program: sign in with WeChat; 'binding_required' means verify a phone code once (the token is kept). */
  async function signInWithWechat(u: UniLike): Promise<'signed_in' | 'binding_required'> {
    const outcome = await wechatSignIn(u, api, slug)
    if (outcome.kind === 'signed_in') session.signIn(residentSessionOf(outcome.session))
    else state.bindingToken = outcome.bindingToken
    return outcome.kind
  }

  async function signOut(): Promise<void> {
    const current = session.tokens.get()
    session.signOut()
    if (current) {
      await api.post('/v1/public/tenants/{slug}/logout', { params: { path: { slug } },
        body: { refresh_token: current.refresh_token } }).catch(() => undefined)
    }
  }

  function rememberReturn(url: string): void {
    storage.set(returnKey, url)
  }

  function takeReturn(): string | null {
    const url = storage.get<string>(returnKey)
    storage.remove(returnKey)
    return url
  }

  return { state, session, secondsLeft, sendCode, verify, signInWithWechat, signOut, rememberReturn, takeReturn }
}

export type ResidentAuth = ReturnType<typeof createResidentAuth>
