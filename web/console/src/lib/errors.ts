import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/client'
import { i18n } from '@/i18n'

/** What a person reads when a request fails: the API's own message (it is written for people), or a sentence
 * for network trouble, rate limits and a role that may not do it. */
export function describeError(err: unknown): string {
  const t = i18n.global.t
  if (err instanceof ApiError) {
    if (err.code === 'network_error') return t('errors.network_error')
    if (err.status === 429) return t('errors.rateLimited', { seconds: err.retryAfter ?? 60 })
    if (err.status === 403) return t('errors.forbidden')
    if (err.status === 412) return t('errors.stale')
    return err.message || t('errors.http_error', { status: err.status })
  }
  return err instanceof Error ? err.message : String(err)
}

export function showError(err: unknown): void {
  if (err instanceof ApiError && err.status === 401) return // the sign-in dialog is already open
  ElMessage.error({ message: describeError(err), grouping: true })
}
