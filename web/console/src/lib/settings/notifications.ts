// Notification rules and templates as chalicelib/notifications/rules.py has them: the events notifications can
// follow, recipients, channels, the built-in texts a tenant's own template overrides, and which text a message
// uses. Mirrored so the settings screen shows the text in effect and previews an edit; the server renders the real
// messages and checks templates on save. Pure.
import type { components } from '@/api'
import { limitFor, renderTemplate } from './templates'

export type NotificationSettings = components['schemas']['NotificationSettings']
export type Rule = components['schemas']['Rule']
export type Recipient = Rule['recipients'][number]
export type Channel = Rule['channels'][number]
export type TemplateLocale = 'zh-CN' | 'en'

/** Event types with notify=True in chalicelib/events/catalogue.py. */
export const NOTIFIABLE_EVENTS = [
  'ticket.created', 'ticket.acknowledged', 'ticket.assigned', 'ticket.status_changed', 'ticket.commented',
  'ticket.quoted', 'ticket.resolved', 'ticket.closed', 'ticket.reopened', 'ticket.rated', 'ticket.cancelled',
  'ticket.merged', 'ticket.return_visited', 'ticket.updated', 'sla.warning', 'sla.breached', 'sla.escalated',
  'webhook.disabled',
] as const

export const RECIPIENTS: Recipient[] = ['resident', 'assignee', 'supervisors', 'on_duty_supervisors', 'butler', 'admins', 'escalation']
export const CHANNELS: Channel[] = ['sms', 'wechat', 'email', 'inbox']
export const TEMPLATE_LOCALES: TemplateLocale[] = ['zh-CN', 'en']

const BRAND = '【{brand}】'
/** rules.DEFAULT_TEMPLATES: event × locale (every channel). */
export const DEFAULT_TEMPLATES: Record<string, Record<TemplateLocale, string>> = {
  'ticket.created': { 'zh-CN': `${BRAND}新{kind}工单{number}（{unit}），请及时处理。`, en: '[{brand}] New {kind} ticket {number} ({unit}).' },
  'ticket.acknowledged': { 'zh-CN': `${BRAND}您的工单{number}已受理，我们会尽快为您处理。`, en: '[{brand}] Your request {number} has been received; we are on it.' },
  'ticket.assigned': { 'zh-CN': `${BRAND}新工单{number}（{kind}）已派给您，请及时处理。`, en: '[{brand}] Ticket {number} ({kind}) is assigned to you.' },
  'ticket.commented': { 'zh-CN': `${BRAND}工单{number}有新回复。`, en: '[{brand}] Ticket {number} has a new reply.' },
  'ticket.quoted': { 'zh-CN': `${BRAND}工单{number}有一份报价待您确认。`, en: '[{brand}] Ticket {number} has a quote awaiting your approval.' },
  'ticket.resolved': { 'zh-CN': `${BRAND}您的工单{number}已处理完成，请在小程序确认并评价。`, en: '[{brand}] Your request {number} is resolved; please confirm and rate it.' },
  'ticket.reopened': { 'zh-CN': `${BRAND}工单{number}已被重新打开，请跟进。`, en: '[{brand}] Ticket {number} was reopened.' },
  'ticket.rated': { 'zh-CN': `${BRAND}工单{number}收到了评价。`, en: '[{brand}] Ticket {number} was rated.' },
  'sla.warning': { 'zh-CN': `${BRAND}工单{number}的{clock}时限即将到期。`, en: '[{brand}] Ticket {number}: the {clock} deadline is near.' },
  'sla.breached': { 'zh-CN': `${BRAND}工单{number}的{clock}已超时，请立即处理。`, en: '[{brand}] Ticket {number}: the {clock} deadline has passed.' },
  'sla.escalated': { 'zh-CN': `${BRAND}工单{number}（{kind}）{clock}已超时，请立即处理。`, en: '[{brand}] Ticket {number} ({kind}): the {clock} deadline has passed; act now.' },
  'webhook.disabled': { 'zh-CN': `${BRAND}Webhook 推送地址 {url} 已停用：{reason}。请检查后在后台重新启用。`, en: '[{brand}] The webhook endpoint {url} was disabled: {reason}. Fix it and re-enable it.' },
  generic: { 'zh-CN': `${BRAND}工单{number}有更新：{status}。`, en: '[{brand}] Ticket {number} was updated: {status}.' },
}
/** rules.EMERGENCY_TEMPLATES: the page an on-duty supervisor gets for a new emergency ticket. */
export const EMERGENCY_TEMPLATES: Record<TemplateLocale, string> = {
  'zh-CN': `${BRAND}紧急工单{number}（{unit}）：请值班主管立即处理！`,
  en: '[{brand}] EMERGENCY ticket {number} ({unit}): on-duty supervisor, act now!',
}

/** The tenant's own text for event × channel × locale, if it set one. */
export function customTemplate(settings: NotificationSettings | null | undefined, event: string, channel: string, locale: string): string | null {
  return settings?.templates?.[event]?.[channel]?.[locale] ?? null
}

/** The built-in text of an event in a locale (what "restore default" goes back to). */
export function builtInTemplate(event: string, locale: TemplateLocale, emergency = false): string {
  if (emergency) return EMERGENCY_TEMPLATES[locale]
  return DEFAULT_TEMPLATES[event]?.[locale] ?? DEFAULT_TEMPLATES[event]?.['zh-CN'] ?? DEFAULT_TEMPLATES.generic[locale]
}

/** The text a message uses (rules.render's choice): the tenant's template in the locale, else its Chinese one,
 * else (a new emergency ticket's page) the emergency text, else the built-in text. */
export function templateInEffect(settings: NotificationSettings | null | undefined, event: string, channel: string,
  locale: TemplateLocale, emergency = false): { text: string; source: 'custom' | 'custom_zh' | 'built_in' } {
  const own = settings?.templates?.[event]?.[channel] ?? {}
  if (own[locale]) return { text: own[locale], source: 'custom' }
  if (own['zh-CN']) return { text: own['zh-CN'], source: 'custom_zh' }
  return { text: builtInTemplate(event, locale, emergency), source: 'built_in' }
}

/** One message as the server renders it, cut at the channel's cap. */
export function renderMessage(text: string, channel: string, values: Record<string, string>): string {
  return renderTemplate(text, values, limitFor(channel))
}

/** The (recipient, channel) pairs an event calls for under some rules, each once (rules.plan). */
export function plan(rules: Rule[], event: string, kind?: string | null): [Recipient, Channel][] {
  const pairs: [Recipient, Channel][] = []
  for (const rule of rules) {
    if (rule.event !== event || (rule.kinds?.length && !rule.kinds.includes(kind ?? ''))) continue
    for (const r of rule.recipients) for (const c of rule.channels) {
      if (!pairs.some(([a, b]) => a === r && b === c)) pairs.push([r, c])
    }
  }
  return pairs
}

/** A problem the server would refuse a rule for (besides the schema): the escalation recipient outside
 * sla.escalated, or an empty recipient/channel list. */
export function ruleProblem(rule: Rule): 'escalation_only' | 'no_recipients' | 'no_channels' | null {
  if (!rule.recipients.length) return 'no_recipients'
  if (!rule.channels.length) return 'no_channels'
  if (rule.recipients.includes('escalation') && rule.event !== 'sla.escalated') return 'escalation_only'
  return null
}
