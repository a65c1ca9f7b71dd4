// The platform adapter as the app uses it: the same calls on H5 and in the mini-program, the differences chosen at
// build time by uni-app's conditional compilation (#ifdef H5 / #ifdef MP-WEIXIN), so the mini-program bundle
// carries no browser code (window, document, localStorage) and the H5 none of WeChat's.
import type { AttachmentGrant } from '@/api/types'
import { createApi, type ApiOptions } from './http'
import { MAX_PHOTOS, roomFor } from './images'
import { uniSend, uniStorage, type UniLike } from './uni'
import type { PostForm, PreparedImage } from './upload'
// #ifdef H5
import { prepareOnH5 } from './images'
import { fetchPostForm } from './upload'
// #endif
// #ifdef MP-WEIXIN
import { prepareOnMp } from './images'
import { uniPostForm } from './upload'
// #endif

// Each uni API named literally (uni.request, not u.request): uni's H5 build keeps only the APIs it sees used.
const u: UniLike = {
  request: (options) => uni.request(options as unknown as UniApp.RequestOptions),
  uploadFile: (options) => uni.uploadFile(options as unknown as UniApp.UploadFileOption),
  login: (options) => uni.login(options as unknown as UniApp.LoginOptions),
  getStorageSync: (key) => uni.getStorageSync(key),
  setStorageSync: (key, value) => uni.setStorageSync(key, value),
  removeStorageSync: (key) => uni.removeStorageSync(key),
}

export const storage = uniStorage(u)
export const send = uniSend(u)
export const channel: 'h5' | 'mini_program' = process.env.UNI_PLATFORM === 'h5' ? 'h5' : 'mini_program'

/** '' on H5 (the page and the API share an origin); the API's https address in the mini-program (build-time
 * configuration: VITE_LINLI_API). */
export const apiBase: string = process.env.UNI_PLATFORM === 'h5' ? '' : (import.meta.env.VITE_LINLI_API ?? '')

export function newApi(options: Omit<ApiOptions, 'send' | 'baseUrl'>) {
  return createApi({ ...options, send, baseUrl: apiBase })
}

let postForm: PostForm = () => Promise.reject(new Error('no upload on this platform'))
// #ifdef H5
postForm = fetchPostForm((input, init) => fetch(input, init))
// #endif
// #ifdef MP-WEIXIN
postForm = uniPostForm(u)
const mpImages = {
  getImageInfo: (o: never) => uni.getImageInfo(o),
  compressImage: (o: never) => uni.compressImage(o),
  getFileInfo: (o: never) => uni.getFileInfo(o),
}
// #endif

export function postToBucket(grant: AttachmentGrant, image: PreparedImage): Promise<void> {
  return postForm(grant, image)
}

interface Chosen {
  tempFilePaths: string[]
  tempFiles: Array<{ path: string; size: number } | File>
}

/** Camera or album, up to the room left of ``MAX_PHOTOS``; each photo resized on the phone. */
export async function pickPhotos(taken: number): Promise<PreparedImage[]> {
  const count = roomFor(taken, MAX_PHOTOS)
  if (count === 0) return []
  const chosen = await new Promise<Chosen>((resolve, reject) =>
    uni.chooseImage({ count, sizeType: ['original', 'compressed'], sourceType: ['album', 'camera'],
                      success: (r) => resolve(r as unknown as Chosen), fail: reject }))
  const prepared: PreparedImage[] = []
  // #ifdef H5
  for (const file of chosen.tempFiles.slice(0, count)) prepared.push(await prepareOnH5(file as File))
  // #endif
  // #ifdef MP-WEIXIN
  for (const path of chosen.tempFilePaths.slice(0, count)) prepared.push(await prepareOnMp(mpImages, path))
  // #endif
  return prepared
}

export function callPhone(phoneNumber: string): void {
  uni.makePhoneCall({ phoneNumber, fail: () => undefined })
}

export const wechat: UniLike = u
