// The checks the server makes on settings fields, as far as a form can make them before saving (the server
// checks again and its 422 is shown next to the form). Pure.

/** tenants.domain.PHONE_RE: a mainland mobile, a landline with area code, or a 400 number (spaces dropped). */
export const PHONE_RE = /^(?:\+?86)?1[3-9]\d{9}$|^0\d{2,3}-?\d{7,8}$|^400-?\d{3}-?\d{4}$/
export const HEX_COLOUR_RE = /^#[0-9A-Fa-f]{6}$/
export const HTTPS_URL_RE = /^https:\/\/[^\s/$.?#][^\s]*$/
/** Ticket-kind keys and team ids (tenants.domain.KindKey). */
export const KEY_RE = /^[a-z][a-z0-9_]{1,31}$/
/** Calendar ids (sla.policies.CalendarConfig.id). */
export const CALENDAR_ID_RE = /^[a-z][a-z0-9_-]{1,31}$/
export const EMAIL_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

export function isPhone(value: string): boolean {
  return PHONE_RE.test(value.replace(/ /g, ''))
}

/** tenants.domain.check_password, the parts a form can tell: 10–128 characters, letters and digits, not one
 * character repeated (the server also refuses common passwords and ones holding the e-mail's name). */
export function passwordProblems(password: string, email = ''): Array<'length' | 'mix' | 'common' | 'email'> {
  const problems: Array<'length' | 'mix' | 'common' | 'email'> = []
  if (password.length < 10 || password.length > 128) problems.push('length')
  if (!(/[A-Za-z]/.test(password) && /\d/.test(password))) problems.push('mix')
  if (new Set(password).size < 4) problems.push('common')
  const local = email.split('@')[0].toLowerCase()
  if (local.length >= 4 && password.toLowerCase().includes(local)) problems.push('email')
  return problems
}

/** A strong initial password for a new staff member: 14 characters of letters and digits from crypto. */
export function generatePassword(random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const letters = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ'
  const digits = '23456789'
  const all = letters + digits
  for (;;) {
    const bytes = random(14)
    const text = Array.from(bytes, (b) => all[b % all.length]).join('')
    if (passwordProblems(text).length === 0) return text
  }
}

/** Black or white, whichever reads better on a background colour (WCAG relative luminance). */
export function textOn(hex: string): '#ffffff' | '#1f2329' {
  if (!HEX_COLOUR_RE.test(hex)) return '#ffffff'
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
  return luminance > 0.45 ? '#1f2329' : '#ffffff'
}

/** A 422's field errors under one prefix ("branding.logo_url" → "logo_url" for prefix "branding"). */
export function fieldsUnder(errors: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [field, message] of Object.entries(errors)) {
    if (field === prefix) out[''] = message
    else if (field.startsWith(`${prefix}.`)) out[field.slice(prefix.length + 1)] = message
  }
  return out
}

/** Every line of a 422's details for a form-level alert: "field: message" (or the message alone). */
export function detailLines(details: unknown): string[] {
  if (!Array.isArray(details)) return []
  return details.map((d: { field?: string | null; loc?: unknown[]; message?: string; msg?: string }) => {
    const field = d.field ?? (Array.isArray(d.loc) ? d.loc.join('.') : '')
    const message = d.message ?? d.msg ?? ''
    return field ? `${field}: ${message}` : message
  }).filter(Boolean)
}
