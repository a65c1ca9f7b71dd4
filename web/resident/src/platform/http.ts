// The one way the app talks to the API, on both platforms: typed from web/api/schema.d.ts, the bearer token
// attached, one refresh on a 401 shared by every request in flight (a refresh token works once: spending it twice
// ends the session), and errors turned into ApiError in the API's documented shape. The wire itself (uni.request,
// or a fake in the tests) is passed in, so this file runs under vitest without a phone.
import type { paths } from '@api/schema'
import type { CallInit, Method, Operation, PathsWith, Success } from '@/api/types'

export interface WireRequest {
  method: Uppercase<Method>
  url: string
  headers: Record<string, string>
  body?: unknown
}

export interface WireResponse {
  status: number
  /** Header names in lower case. */
  headers: Record<string, string>
  body: unknown
}

export type Send = (request: WireRequest) => Promise<WireResponse>

export interface Tokens {
  access_token: string
  refresh_token: string
}

/** Where a session's tokens live (uni storage on the phone, memory in tests). */
export interface TokenStore {
  get(): Tokens | null
  set(tokens: Tokens): void
  clear(): void
}

export interface ErrorBody {
  error?: { code?: string; message?: string; request_id?: string; details?: unknown }
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  readonly requestId: string | null
  readonly retryAfter: number | null

  constructor(status: number, body: ErrorBody | null, retryAfter: number | null = null) {
    super(body?.error?.message ?? `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.code = body?.error?.code ?? (status === 0 ? 'network_error' : 'http_error')
    this.details = body?.error?.details ?? null
    this.requestId = body?.error?.request_id ?? null
    this.retryAfter = retryAfter
  }

  /** Field errors of a 422 as {field: message}. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    if (Array.isArray(this.details)) {
      for (const d of this.details as Array<{ loc?: unknown[]; field?: string; msg?: string; message?: string }>) {
        const field = d.field ?? (Array.isArray(d.loc) ? String(d.loc[d.loc.length - 1]) : '')
        if (field) out[field] = d.message ?? d.msg ?? ''
      }
    }
    return out
  }
}

export interface ApiOptions {
  send: Send
  tokens: TokenStore
  /** '' on H5 (same origin as the page); the API's address in the mini-program. */
  baseUrl?: string
  /** The route that renews this kind of session: a resident's /v1/public/tenants/{slug}/refresh, staff /v1/auth/refresh. */
  refreshPath: () => string
  /** Called once when the session cannot be renewed: the app sends the person to sign in and back. */
  onSignedOut?: () => void
}

export function buildUrl(path: string, params?: { path?: object; query?: object }): string {
  const values = (params?.path ?? {}) as Record<string, unknown>
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined || value === null || value === '') throw new Error(`missing path parameter ${name}`)
    return encodeURIComponent(String(value))
  })
  const query = Object.entries((params?.query ?? {}) as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
  return query.length ? `${filled}?${query.join('&')}` : filled
}

function errorOf(response: WireResponse): ApiError {
  const retryAfter = Number(response.headers['retry-after']) || null
  const body = response.body && typeof response.body === 'object' ? (response.body as ErrorBody) : null
  return new ApiError(response.status, body, retryAfter)
}

export function createApi(options: ApiOptions) {
  const base = options.baseUrl ?? ''
  let refreshing: Promise<boolean> | null = null

  async function wire(request: WireRequest): Promise<WireResponse> {
    try {
      return await options.send(request)
    } catch {
      throw new ApiError(0, { error: { code: 'network_error', message: 'network_error' } })
    }
  }

  async function refresh(staleAccess: string): Promise<boolean> {
    const current = options.tokens.get()
    if (!current) return false
    if (current.access_token !== staleAccess) return true // renewed by another request meanwhile
    const answer = await wire({
      method: 'POST',
      url: base + options.refreshPath(),
      headers: { 'Content-Type': 'application/json' },
      body: { refresh_token: current.refresh_token },
    }).catch(() => null)
    if (!answer || answer.status !== 200) {
      if (answer) options.tokens.clear() // refused; a network failure keeps the session for the next try
      return false
    }
    const renewed = answer.body as Tokens
    options.tokens.set({ ...current, access_token: renewed.access_token, refresh_token: renewed.refresh_token })
    return true
  }

  async function send(method: Uppercase<Method>, url: string, headers: Record<string, string>, body: unknown) {
    const access = options.tokens.get()?.access_token
    const withToken = (token: string | undefined) => ({
      method, url: base + url, body,
      headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers,
                 ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    })
    const response = await wire(withToken(access))
    if (response.status !== 401 || !access) return response
    refreshing ??= refresh(access).finally(() => {
      refreshing = null
    })
    if (!(await refreshing)) {
      if (!options.tokens.get()) options.onSignedOut?.()
      return response
    }
    return wire(withToken(options.tokens.get()?.access_token))
  }

  async function call<M extends Method, P extends PathsWith<M>>(
    method: M, path: P, init: CallInit<Operation<P, M>> = {},
  ): Promise<Success<Operation<P, M>>> {
    const url = buildUrl(path as string, init.params as { path?: object; query?: object })
    const response = await send(method.toUpperCase() as Uppercase<M>, url, init.headers ?? {}, init.body)
    if (response.status >= 200 && response.status < 300) {
      return (response.status === 204 ? undefined : response.body) as Success<Operation<P, M>>
    }
    throw errorOf(response)
  }

  return {
    get: <P extends PathsWith<'get'>>(path: P, init?: CallInit<Operation<P, 'get'>>) => call('get', path, init),
    post: <P extends PathsWith<'post'>>(path: P, init?: CallInit<Operation<P, 'post'>>) => call('post', path, init),
    put: <P extends PathsWith<'put'>>(path: P, init?: CallInit<Operation<P, 'put'>>) => call('put', path, init),
    patch: <P extends PathsWith<'patch'>>(path: P, init?: CallInit<Operation<P, 'patch'>>) =>
      call('patch', path, init),
    delete: <P extends PathsWith<'delete'>>(path: P, init?: CallInit<Operation<P, 'delete'>>) =>
      call('delete', path, init),
  }
}

export type Api = ReturnType<typeof createApi>
export type ApiPaths = paths
