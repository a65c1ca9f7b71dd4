// Photos go straight to the attachments bucket with the S3 POST policy the API grants (type and size checked
// there): H5 posts a FormData with fetch, the mini-program uses uni.uploadFile. The API keeps only the id.
import type { AttachmentGrant, AttachmentType } from '@/api/types'
import { ApiError, type Api } from './http'
import { promised, type UniLike } from './uni'

/** A photo ready to send: resized, re-encoded (no EXIF location), its final size known. */
export interface PreparedImage {
  /** A local path (mini-program temp file) or an object URL (H5) for previews. */
  path: string
  /** H5 only: the bytes to post. */
  blob?: Blob
  size: number
  type: AttachmentType
  width: number
  height: number
}

export type PostForm = (grant: AttachmentGrant, image: PreparedImage) => Promise<void>

function rejected(status: number): ApiError {
  return new ApiError(status, { error: { code: 'upload_failed', message: `upload ${status}` } })
}

/** The mini-program's POST to S3: the policy fields first, then the file as `file`. */
export function uniPostForm(u: UniLike): PostForm {
  return async (grant, image) => {
    const answer = await promised<{ statusCode: number; data: string }>((callbacks) =>
      u.uploadFile({ url: grant.url, filePath: image.path, name: 'file', formData: grant.fields, ...callbacks }),
    ).catch(() => {
      throw rejected(0)
    })
    if (answer.statusCode < 200 || answer.statusCode >= 300) throw rejected(answer.statusCode)
  }
}

/** H5's POST to S3 with fetch and FormData (the fields, then the file last, as S3 requires). */
export function fetchPostForm(fetcher: typeof fetch): PostForm {
  return async (grant, image) => {
    if (!image.blob) throw rejected(0)
    const form = new FormData()
    for (const [k, v] of Object.entries(grant.fields)) form.append(k, v)
    form.append('file', image.blob)
    const answer = await fetcher(grant.url, { method: 'POST', body: form }).catch(() => {
      throw rejected(0)
    })
    if (!answer.ok) throw rejected(answer.status)
  }
}

export type GrantPath = '/v1/me/attachments' | '/v1/attachments'

/** Ask the API for an upload grant sized to this photo, post the photo, and return the attachment id. */
export async function uploadImage(api: Api, postForm: PostForm, image: PreparedImage,
                                  grantPath: GrantPath = '/v1/me/attachments'): Promise<string> {
  const grant = await api.post(grantPath, { body: { content_type: image.type, size: image.size } })
  await postForm(grant, image)
  return grant.id
}
