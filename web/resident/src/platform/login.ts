// Resident sign-in. H5: phone + SMS code. Mini-program: uni.login's code → /wechat/login, which either signs a
// bound WeChat account in or answers 409 binding_required with a short-lived binding token; the resident then
// signs in once by SMS code presenting that token, and WeChat sign-in works from then on.
import type { ResidentToken } from '@/api/types'
import { ApiError, type Api } from './http'
import { promised, type UniLike } from './uni'

export type WechatOutcome =
  | { kind: 'signed_in'; session: ResidentToken }
  | { kind: 'binding_required'; bindingToken: string }

export async function wechatSignIn(u: UniLike, api: Api, slug: string): Promise<WechatOutcome> {
  const { code } = await promised<{ code: string }>((callbacks) => u.login({ provider: 'weixin', ...callbacks }))
  try {
    const session = await api.post('/v1/public/tenants/{slug}/wechat/login', {
      params: { path: { slug } }, body: { code } })
    return { kind: 'signed_in', session }
  } catch (err) {
    const token = (err instanceof ApiError && err.code === 'binding_required')
      ? (err.details as { binding_token?: string } | null)?.binding_token : undefined
    if (token) return { kind: 'binding_required', bindingToken: token }
    throw err
  }
}

export function requestCode(api: Api, slug: string, phone: string) {
  return api.post('/v1/public/tenants/{slug}/otp', { params: { path: { slug } }, body: { phone } })
}

export function verifyCode(api: Api, slug: string, phone: string, code: string,
                           bindingToken: string | null = null): Promise<ResidentToken> {
  return api.post('/v1/public/tenants/{slug}/otp/verify', {
    params: { path: { slug } }, body: { phone, code, wechat_binding_token: bindingToken } })
}

export function staffLogin(api: Api, tenantSlug: string, email: string, password: string) {
  return api.post('/v1/auth/login', { body: { tenant_slug: tenantSlug, email, password } })
}
