// An error as a resident reads it: plain Chinese, with the wait when the API says how long (Retry-After).
import { ApiError } from '@/platform/http'
import { t } from '@/locale'

function minutes(seconds: number | null): number {
  return Math.max(1, Math.ceil((seconds ?? 60) / 60))
}

export function explain(err: unknown): string {
  if (!(err instanceof ApiError)) return t('error.unknown')
  const wait = err.retryAfter
  switch (err.code) {
    case 'network_error':
      return t('error.network')
    case 'otp_cooldown':
      return t('error.otpCooldown', { n: wait ?? 60 })
    case 'otp_phone_limit':
      return t('error.otpPhoneLimit', { m: minutes(wait) })
    case 'otp_source_limit':
      return t('error.otpSourceLimit', { m: minutes(wait) })
    case 'otp_daily_limit':
      return t('error.otpDailyLimit')
    case 'otp_locked':
      return t('error.otpLocked')
    case 'invalid_code':
      return t('error.invalidCode')
    case 'daily_ticket_limit':
      return t('error.dailyTicketLimit')
    case 'too_many_attempts':
      return t('error.tooManyAttempts', { m: minutes(wait) })
    case 'invalid_credentials':
      return t('error.invalidCredentials')
    case 'ticket_closed':
      return t('error.ticketClosed')
    case 'upload_failed':
      return t('error.upload')
  }
  switch (err.status) {
    case 401:
      return err.code === 'unauthenticated' ? t('error.signedOut') : t('error.invalidCredentials')
    case 403:
      return t('error.forbidden')
    case 404:
      return t('error.notFound')
    case 409:
    case 412:
      return t('error.conflict')
    case 413:
      return t('error.tooLarge')
    case 422:
      return t('error.invalid')
    case 429:
      return t('error.tooMany', { m: minutes(wait) })
  }
  return t('error.server')
}
