// Photos are resized on the phone before upload: the long side at most 1600 px, re-encoded as JPEG (which also
// drops EXIF, so a photo never carries the home's GPS position). H5 draws on a canvas; the mini-program asks
// uni.compressImage for the computed size.
import type { AttachmentType } from '@/api/types'
import type { PreparedImage } from './upload'

export const MAX_EDGE = 1600
export const JPEG_QUALITY = 0.85
export const MAX_PHOTOS = 9
export const ACCEPTED: readonly AttachmentType[] = ['image/jpeg', 'image/png', 'image/webp', 'image/heic']

export interface Size {
  width: number
  height: number
}

/** The size to draw an image at so its long side is at most ``max``; the aspect ratio is kept, never enlarged.
 *
 * fitWithin({width: 4000, height: 3000}) → {width: 1600, height: 1200}
 */
export function fitWithin(size: Size, max = MAX_EDGE): Size {
  const { width, height } = size
  if (!(width > 0 && height > 0)) throw new Error('image has no size')
  const longest = Math.max(width, height)
  if (longest <= max) return { width, height }
  const scale = max / longest
  return {
    width: Math.max(1, Math.min(max, Math.round(width * scale))),
    height: Math.max(1, Math.min(max, Math.round(height * scale))),
  }
}

/** How many more photos a form with ``taken`` photos may add. */
export function roomFor(taken: number, max = MAX_PHOTOS): number {
  return Math.max(0, max - taken)
}

export function acceptedType(type: string | undefined): AttachmentType {
  return (ACCEPTED as readonly string[]).includes(type ?? '') ? (type as AttachmentType) : 'image/jpeg'
}

/** H5: decode the picked file, draw it at its fitted size, encode JPEG. Falls back to the file itself when the
 * browser cannot decode it (HEIC on desktop Chrome), which the API accepts as it is. */
export async function prepareOnH5(file: Blob, max = MAX_EDGE): Promise<PreparedImage> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    return { path: URL.createObjectURL(file), blob: file, size: file.size, type: acceptedType(file.type),
             width: 0, height: 0 }
  }
  const target = fitWithin({ width: bitmap.width, height: bitmap.height }, max)
  const canvas = document.createElement('canvas')
  canvas.width = target.width
  canvas.height = target.height
  const context = canvas.getContext('2d')!
  context.fillStyle = '#fff' // a transparent PNG becomes a JPEG on white, not on black
  context.fillRect(0, 0, target.width, target.height)
  context.drawImage(bitmap, 0, 0, target.width, target.height)
  bitmap.close()
  const blob = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('encode failed'))), 'image/jpeg', JPEG_QUALITY),
  )
  return { path: URL.createObjectURL(blob), blob, size: blob.size, type: 'image/jpeg', ...target }
}

/** What the mini-program branch needs of `uni` to resize a photo. */
export interface UniImages {
  getImageInfo(options: { src: string; success?: (r: { width: number; height: number }) => void;
                          fail?: (e: unknown) => void }): unknown
  compressImage(options: { src: string; quality: number; compressedWidth?: number; compressedHeight?: number;
                           success?: (r: { tempFilePath: string }) => void; fail?: (e: unknown) => void }): unknown
  getFileInfo(options: { filePath: string; success?: (r: { size: number }) => void;
                         fail?: (e: unknown) => void }): unknown
}

function call<T>(start: (done: { success: (r: T) => void; fail: (e: unknown) => void }) => unknown): Promise<T> {
  return new Promise((resolve, reject) => void start({ success: resolve, fail: reject }))
}

/** Mini-program: read the photo's size, compress it to the fitted size, and measure the result. */
export async function prepareOnMp(u: UniImages, path: string, max = MAX_EDGE): Promise<PreparedImage> {
  const info = await call<{ width: number; height: number }>((d) => u.getImageInfo({ src: path, ...d }))
  const target = fitWithin(info, max)
  const compressed = await call<{ tempFilePath: string }>((d) =>
    u.compressImage({ src: path, quality: Math.round(JPEG_QUALITY * 100), compressedWidth: target.width,
                      compressedHeight: target.height, ...d }))
  const { size } = await call<{ size: number }>((d) => u.getFileInfo({ filePath: compressed.tempFilePath, ...d }))
  return { path: compressed.tempFilePath, size, type: 'image/jpeg', ...target }
}
