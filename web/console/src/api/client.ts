// The one way the console talks to the API: openapi-fetch typed from /v1/openapi.json (web/api/schema.d.ts),
// with the access token attached, one refresh on 401 shared by every request in flight (and by other tabs, via
// the Web Locks API, so two tabs never spend the same refresh token — which the server treats as theft), errors
// turned into ApiError in the API's documented shape, and ETag polling helpers.
import createClient from 'openapi-fetch'
import type { paths } from '@api/schema'

export interface Tokens {
  access_token: string
  refresh_token: string
}

/** Where the tokens live (localStorage in the browser, a Map in tests). */
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
    this.status = status
    this.code = body?.error?.code ?? (status === 0 ? 'network_error' : 'http_error')
    this.details = body?.error?.details ?? null
    this.requestId = body?.error?.request_id ?? null
    this.retryAfter = retryAfter
  }

  /** Someone else changed the resource since it was read (If-Match failed): reload and look again. */
  get isStale(): boolean {
    return this.status === 412
  }

  /** The action no longer fits the resource's state (409), usually because someone else acted first. */
  get isConflict(): boolean {
    return this.status === 409
  }

  get isSignedOut(): boolean {
    return this.status === 401
  }

  /** Field errors of a 422, as {field: message}, for forms. */
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
  tokens: TokenStore
  baseUrl?: string
  fetch?: typeof fetch
  /** Called once when the session cannot be renewed (refresh refused): the UI asks the person to sign in again
   * in place, so nothing they were typing is lost. */
  onSignedOut?: () => void
  /** Serialises the refresh across tabs (navigator.locks in the browser). */
  lock?: <T>(name: string, fn: () => Promise<T>) => Promise<T>
}

const AUTH_PATHS = ['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout']

function webLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks
  return locks ? (locks.request(name, fn) as Promise<T>) : fn()
}

export function createApi(options: ApiOptions) {
  const baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis)
  const lock = options.lock ?? webLock
  let refreshing: Promise<boolean> | null = null

  function withToken(request: Request, access: string | undefined): Request {
    const headers = new Headers(request.headers)
    if (access) headers.set('Authorization', `Bearer ${access}`)
    return new Request(request, { headers })
  }

  async function refresh(staleAccess: string | undefined): Promise<boolean> {
    return lock('linli-console-refresh', async () => {
      const current = options.tokens.get()
      if (!current) return false
      if (current.access_token !== staleAccess) return true // another tab or request renewed it meanwhile
      const res = await baseFetch(
        new Request(`${options.baseUrl ?? ''}/v1/auth/refresh`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refresh_token: current.refresh_token }),
        }),
      )
      if (!res.ok) {
        options.tokens.clear()
        return false
      }
      const body = (await res.json()) as Tokens
      options.tokens.set({ access_token: body.access_token, refresh_token: body.refresh_token })
      return true
    })
  }

  async function authedFetch(input: Request): Promise<Response> {
    const retry = input.clone()
    const access = options.tokens.get()?.access_token
    const response = await baseFetch(withToken(input, access))
    const path = new URL(input.url, 'http://x').pathname
    if (response.status !== 401 || !access || AUTH_PATHS.includes(path)) return response
    refreshing ??= refresh(access).finally(() => {
      refreshing = null
    })
    if (!(await refreshing)) {
      options.onSignedOut?.()
      return response
    }
    return baseFetch(withToken(retry, options.tokens.get()?.access_token))
  }

  const client = createClient<paths>({ baseUrl: options.baseUrl ?? '', fetch: authedFetch })
  return client
}

export type Api = ReturnType<typeof createApi>

/** The data of an openapi-fetch result, or an ApiError thrown with the API's code and message. */
export async function unwrap<T>(pending: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response }
  try {
    result = await pending
  } catch {
    throw new ApiError(0, { error: { code: 'network_error', message: 'network_error' } })
  }
  const { data, error, response } = result
  if (response.ok) return data as T
  const retryAfter = Number(response.headers.get('Retry-After')) || null
  throw new ApiError(response.status, (error as ErrorBody) ?? null, retryAfter)
}

/** Poll state for one list: send its last ETag and tell "unchanged" (304) from a new page. */
export interface Polled<T> {
  changed: boolean
  data: T | null
  etag: string | null
}

export async function pollOnce<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  previousEtag: string | null,
): Promise<Polled<T>> {
  const result = await pending
  if (result.response.status === 304) return { changed: false, data: null, etag: previousEtag }
  const data = await unwrap(Promise.resolve(result))
  return { changed: true, data, etag: result.response.headers.get('ETag') }
}

/** A token store on window.localStorage: shared by the console's tabs. */
export function browserTokenStore(key = 'linli.console.tokens'): TokenStore {
  return {
    get() {
      const raw = localStorage.getItem(key)
      try {
        return raw ? (JSON.parse(raw) as Tokens) : null
      } catch {
        return null
      }
    },
    set(tokens) {
      localStorage.setItem(key, JSON.stringify(tokens))
    },
    clear() {
      localStorage.removeItem(key)
    },
  }
}
