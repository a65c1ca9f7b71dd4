// Message templates and canned replies as the server checks and renders them (chalicelib/notifications/templates.py,
// rules.py and tenants/reply_templates.py), mirrored so the settings screens preview a text as it is typed. The
// server checks again on save. Pure.

export const ELLIPSIS = '…'
export const RENDERED_LIMITS: Record<string, number> = { sms: 500, wechat: 500, inbox: 1000, email: 2000 }
export const DEFAULT_LIMIT = 500
/** The longest text a tenant may save as a notification template (rules.Template). */
export const TEMPLATE_MAX = 500

/** The {variables} of notification templates (rules.VARIABLES). */
export const NOTIFICATION_VARIABLES = ['brand', 'number', 'kind', 'category', 'status', 'clock', 'unit', 'url', 'reason'] as const
/** The {placeholders} of canned replies (reply_templates.PLACEHOLDERS). */
export const REPLY_PLACEHOLDERS = ['resident_name', 'ticket_number', 'staff_name', 'community_name', 'service_phone', 'kind_name'] as const
/** A rendered canned reply's cap: what a comment may hold. */
export const REPLY_RENDERED_LIMIT = 2000

export type TemplateProblemType =
  | 'stray_close' | 'unclosed_open' | 'positional' | 'conversion' | 'format_spec' | 'attribute' | 'unknown'

/** Why a template would be refused: the kind of problem, the field as written, the plain field to write instead
 * (when there is one), and the 1-based character position for stray braces. */
export interface TemplateProblem {
  type: TemplateProblemType
  field: string
  suggestion: string | null
  position: number
}

const NAME = /^[a-z_][a-z0-9_]*$/
const FIELD = /\{([^{}]*)\}/y

/** The first problem of a template (null: the server will accept it). */
export function checkTemplate(text: string, variables: readonly string[]): TemplateProblem | null {
  let position = 0
  while (position < text.length) {
    if (text.startsWith('{{', position) || text.startsWith('}}', position)) {
      position += 2
      continue
    }
    const char = text[position]
    if (char === '}') return { type: 'stray_close', field: '}', suggestion: '}}', position: position + 1 }
    if (char === '{') {
      FIELD.lastIndex = position
      const field = FIELD.exec(text)
      if (!field) return { type: 'unclosed_open', field: '{', suggestion: '{{', position: position + 1 }
      const problem = checkField(field[0], field[1], variables, position + 1)
      if (problem) return problem
      position = FIELD.lastIndex
      continue
    }
    position += 1
  }
  return null
}

function checkField(whole: string, inner: string, variables: readonly string[], position: number): TemplateProblem | null {
  const name = inner.split(/[!:.[]/, 1)[0].trim()
  const suggestion = variables.includes(name) ? `{${name}}` : null
  const problem = (type: TemplateProblemType): TemplateProblem => ({ type, field: whole, suggestion, position })
  if (name === '' || /^\d+$/.test(name)) return problem('positional')
  if (inner.includes('!')) return problem('conversion')
  if (inner.includes(':')) return problem('format_spec')
  if (inner.includes('.') || inner.includes('[')) return problem('attribute')
  if (!NAME.test(inner) || !variables.includes(inner)) return { ...problem('unknown'), suggestion: null }
  return null
}

const RENDER = /\{\{|\}\}|\{([a-z_][a-z0-9_]*)\}/g

/** The plain {name} fields of a text, in order of use. */
export function fieldsOf(text: string): string[] {
  return [...text.matchAll(RENDER)].filter((m) => m[1] !== undefined).map((m) => m[1])
}

/** `text` with each {name} replaced by its value ("" when it has none), at most `limit` characters (code points,
 * as Python counts them), cut with "…". */
export function renderTemplate(text: string, values: Record<string, string | null | undefined>, limit: number): string {
  const pieces: string[] = []
  let at = 0
  for (const m of text.matchAll(RENDER)) {
    pieces.push(text.slice(at, m.index))
    pieces.push(m[1] === undefined ? m[0][0] : String(values[m[1]] ?? ''))
    at = m.index! + m[0].length
  }
  pieces.push(text.slice(at))
  const kept: string[] = []
  let size = 0
  for (const piece of pieces) {
    const chars = Array.from(piece).slice(0, limit + 1 - size)
    kept.push(...chars)
    size += chars.length
    if (size > limit) return kept.slice(0, Math.max(limit - ELLIPSIS.length, 0)).join('') + ELLIPSIS
  }
  return kept.join('')
}

export function limitFor(channel: string): number {
  return RENDERED_LIMITS[channel] ?? DEFAULT_LIMIT
}

/** Characters as the server counts them (code points). */
export function charCount(text: string): number {
  return Array.from(text).length
}

/** A canned reply rendered for a ticket, and the placeholders it had no value for (reply_templates.render). */
export function renderReply(body: string, values: Record<string, string | null | undefined>): { text: string; missing: string[] } {
  const missing = [...new Set(fieldsOf(body))].filter((name) => !values[name])
  const present = Object.fromEntries(Object.entries(values).filter(([, v]) => v))
  return { text: renderTemplate(body, present, REPLY_RENDERED_LIMIT), missing }
}

/** `text` with `insert` put where the caret is (or replacing the selection); the caret goes after it. */
export function insertAt(text: string, insert: string, start: number | null | undefined, end?: number | null): { text: string; caret: number } {
  const from = start ?? text.length
  const to = end ?? from
  return { text: text.slice(0, from) + insert + text.slice(to), caret: from + insert.length }
}

/** A placeholder as it is written in a text: "{name}". */
export function braced(name: string): string {
  return `{${name}}`
}
