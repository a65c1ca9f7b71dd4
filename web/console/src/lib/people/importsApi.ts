// The import jobs' API (chalicelib/residents/imports/api.py, typed from web/api/schema.d.ts) and the browser's upload
// straight to S3 with the presigned POST it hands out.
import { api, unwrap, type components } from '@/api'
import type { ImportFormat } from './imports'

export type ImportJob = components['schemas']['ImportJobOut']
export type ImportRowError = components['schemas']['ImportRowErrorOut']
export type ImportUpload = components['schemas']['ImportUploadOut']
export type ImportErrorFile = components['schemas']['ImportErrorFileOut']
type UploadType = components['schemas']['ImportUploadIn']['content_type']

/** A presigned POST for one file of this type (S3 refuses another type or more than max_bytes). */
export function newUpload(contentType: UploadType): Promise<ImportUpload> {
  return unwrap(api.POST('/v1/imports/uploads', { body: { content_type: contentType } }))
}

/** Starts the job (202, queued). The key makes a retried start answer with the same job. */
export function startImport(body: { upload_id: string; format: ImportFormat; filename: string }, idempotencyKey: string): Promise<ImportJob> {
  return unwrap(api.POST('/v1/imports', { body: { ...body, kind: 'residents' }, headers: { 'Idempotency-Key': idempotencyKey } }))
}

export function getImport(id: string): Promise<ImportJob> {
  return unwrap(api.GET('/v1/imports/{import_id}', { params: { path: { import_id: id } } }))
}

export function listImports(limit = 10, cursor?: string | null): Promise<components['schemas']['ImportJobPage']> {
  return unwrap(api.GET('/v1/imports', { params: { query: { limit, cursor: cursor ?? undefined } } }))
}

/** A short-lived link to the failed rows' CSV (only for a completed job with failed rows; 409 otherwise). */
export function errorFile(id: string): Promise<ImportErrorFile> {
  return unwrap(api.GET('/v1/imports/{import_id}/errors', { params: { path: { import_id: id } } }))
}

/** Why S3 refused an upload: the <Code> and <Message> of its XML error, if it sent one. */
export class UploadError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message)
  }
}

/** The file POSTed to the presigned form (multipart: the returned fields, then the file), with progress. XHR rather
 * than fetch because only XHR reports upload progress. No Authorization header: the form's policy is the grant. */
export function uploadToStorage(upload: ImportUpload, form: FormData, onProgress?: (percent: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', upload.url)
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(Math.floor((e.loaded * 100) / e.total))
    }
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve()
      const text = xhr.responseText || ''
      const code = text.match(/<Code>([^<]*)<\/Code>/)?.[1] ?? 'upload_failed'
      const message = text.match(/<Message>([^<]*)<\/Message>/)?.[1] ?? `HTTP ${xhr.status}`
      reject(new UploadError(xhr.status, code, message))
    }
    // A network failure, or a storage that refused the cross-origin request (no CORS rule for this origin).
    xhr.onerror = () => reject(new UploadError(0, 'network_error', 'network_error'))
    xhr.send(form)
  })
}
