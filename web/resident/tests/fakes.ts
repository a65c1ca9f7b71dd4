// Fakes of what the adapter talks to: a `uni` that answers like WeChat's (login, request, uploadFile, storage) and
// an API that answers like Linli's routes, recording every call. No mocks of our own code.
import type { UniLike, UniRequestOptions, UniUploadOptions } from '@/platform/uni'

export interface Recorded {
  method: string
  url: string
  header: Record<string, string>
  data: unknown
}

export type Route = (call: Recorded) => { statusCode: number; data?: unknown; header?: Record<string, string> }

const pathOf = (url: string) => new URL(url, 'http://local.test').pathname

export class FakeUni implements UniLike {
  readonly requests: Recorded[] = []
  readonly uploads: UniUploadOptions[] = []
  readonly store = new Map<string, unknown>()
  loginCodes = ['wx-code-1']
  uploadStatus = 204
  offline = false

  constructor(private readonly routes: Record<string, Route> = {}) {}

  request(options: UniRequestOptions): void {
    const call = { method: options.method, url: options.url, header: options.header, data: options.data }
    this.requests.push(call)
    queueMicrotask(() => {
      if (this.offline) return options.fail?.({ errMsg: 'request:fail' })
      const path = pathOf(options.url)
      const route = this.routes[`${options.method} ${path}`]
      const answer = route ? route(call) : { statusCode: 404, data: { error: { code: 'route_not_found' } } }
      options.success?.({ statusCode: answer.statusCode, header: answer.header ?? {}, data: answer.data ?? '' })
    })
  }

  uploadFile(options: UniUploadOptions): void {
    this.uploads.push(options)
    queueMicrotask(() => options.success?.({ statusCode: this.uploadStatus, data: '' }))
  }

  login(options: { provider: 'weixin'; success?: (r: { code: string }) => void; fail?: (e: unknown) => void }): void {
    const code = this.loginCodes.shift()
    queueMicrotask(() => (code ? options.success?.({ code }) : options.fail?.({ errMsg: 'login:fail' })))
  }

  getStorageSync(key: string): unknown {
    return this.store.has(key) ? this.store.get(key) : ''
  }

  setStorageSync(key: string, value: unknown): void {
    this.store.set(key, value)
  }

  removeStorageSync(key: string): void {
    this.store.delete(key)
  }

  calls(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && pathOf(r.url) === path)
  }
}

export const json = (statusCode: number, data: unknown, header: Record<string, string> = {}) =>
  ({ statusCode, data, header })

export function errorBody(code: string, message = code, details: unknown = null) {
  return { error: { code, message, request_id: 'req_test', details } }
}

export function residentToken(n: number) {
  return {
    access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: 3600, name: '陈阿姨',
    resident_id: 'res_1', token_type: 'Bearer',
    units: [{ community_id: 'cmt_1', unit_id: 'unt_1', label: '翠苑1栋1单元101', relation: 'owner' as const }],
  }
}
