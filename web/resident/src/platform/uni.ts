// The few uni-app calls the adapter needs, as an interface: the real `uni` on the phone, a fake in the tests.
// Nothing outside src/platform calls uni.request, uni.uploadFile, uni.login or storage directly.
import type { Send, WireResponse } from './http'

interface Callbacks<T> {
  success?: (result: T) => void
  fail?: (error: unknown) => void
}

export interface UniRequestOptions extends Callbacks<{ statusCode: number; header: Record<string, string>; data: unknown }> {
  url: string
  method: string
  header: Record<string, string>
  data?: unknown
  dataType?: string
  timeout?: number
}

export interface UniUploadOptions extends Callbacks<{ statusCode: number; data: string }> {
  url: string
  filePath: string
  name: string
  formData: Record<string, string>
}

export interface UniLike {
  request(options: UniRequestOptions): unknown
  uploadFile(options: UniUploadOptions): unknown
  login(options: Callbacks<{ code: string }> & { provider: 'weixin' }): unknown
  getStorageSync(key: string): unknown
  setStorageSync(key: string, value: unknown): void
  removeStorageSync(key: string): void
}

/** Call a uni API that takes success/fail callbacks as a promise. */
export function promised<T>(start: (callbacks: Callbacks<T>) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start({ success: resolve, fail: reject })
  })
}

function lowerCase(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) out[k.toLowerCase()] = String(v)
  return out
}

/** The wire over uni.request (XHR on H5, wx.request in the mini-program). */
export function uniSend(u: UniLike, timeout = 20000): Send {
  return (request) =>
    promised<{ statusCode: number; header: Record<string, string>; data: unknown }>((callbacks) =>
      u.request({ url: request.url, method: request.method, header: request.headers, data: request.body,
                  dataType: 'json', timeout, ...callbacks }),
    ).then((res): WireResponse => ({ status: res.statusCode, headers: lowerCase(res.header), body: res.data }))
}

/** Key/value storage that survives restarts (localStorage on H5, wx storage in the mini-program). */
export interface Storage {
  get<T>(key: string): T | null
  set(key: string, value: unknown): void
  remove(key: string): void
}

export function uniStorage(u: UniLike): Storage {
  return {
    get<T>(key: string): T | null {
      const raw = u.getStorageSync(key)
      if (raw === '' || raw === undefined || raw === null) return null
      if (typeof raw !== 'string') return raw as T
      try {
        return JSON.parse(raw) as T
      } catch {
        return null
      }
    },
    set(key, value) {
      u.setStorageSync(key, JSON.stringify(value))
    },
    remove(key) {
      u.removeStorageSync(key)
    },
  }
}

export function memoryStorage(): Storage & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return {
    data,
    get: <T>(key: string) => (data.has(key) ? (JSON.parse(data.get(key)!) as T) : null),
    set: (key, value) => void data.set(key, JSON.stringify(value)),
    remove: (key) => void data.delete(key),
  }
}
