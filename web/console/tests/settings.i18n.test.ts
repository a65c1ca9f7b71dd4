// The settings screens' strings: both languages have every key with the same {params}, no string vue-i18n would
// misread, and a string for every value the screens build a key from (events, scopes, recipients, problems…).
import { describe, expect, it } from 'vitest'
import en from '@/i18n/settings.en'
import zh from '@/i18n/settings.zh-CN'
import { CHANNELS, NOTIFIABLE_EVENTS, RECIPIENTS, TEMPLATE_LOCALES } from '@/lib/settings/notifications'
import { CLOCKS, WEEKDAYS } from '@/lib/settings/slaPreview'
import { NOTIFICATION_VARIABLES, REPLY_PLACEHOLDERS, type TemplateProblemType } from '@/lib/settings/templates'
import { passwordProblems } from '@/lib/settings/validation'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)))
}
const at = (tree: Tree, key: string): unknown => key.split('.').reduce<unknown>((n, p) => (n as Tree | undefined)?.[p], tree)
const has = (key: string) => typeof at(zh as Tree, key) === 'string' && typeof at(en as Tree, key) === 'string'

describe('settings strings', () => {
  it('has every key in both languages, none empty', () => {
    expect(keys(en as Tree).sort()).toEqual(keys(zh as Tree).sort())
    for (const key of keys(zh as Tree)) expect(at(zh as Tree, key), key).not.toBe('')
  })

  it('uses the same {params} in both languages and nothing vue-i18n reads as syntax', () => {
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    for (const key of keys(zh as Tree)) {
      const z = at(zh as Tree, key) as string
      const e = at(en as Tree, key) as string
      expect(params(e), key).toEqual(params(z))
      for (const text of [z, e]) {
        expect(text.replace(/\{\w+\}/g, ''), key).not.toMatch(/[{}@|$]/)
      }
    }
  })

  it('names every value a screen builds a key from', () => {
    const wanted = [
      ...NOTIFIABLE_EVENTS.map((e) => `events.${e.replace('.', '_')}`),
      ...RECIPIENTS.map((r) => `notifications.recipients.${r}`),
      ...CHANNELS.map((c) => `notifications.channels.${c}`),
      ...TEMPLATE_LOCALES.map((l) => `notifications.locales.${l}`),
      ...TEMPLATE_LOCALES.flatMap((l) => [`notifications.sampleClock.${l}`, `notifications.sampleReason.${l}`]),
      ...NOTIFICATION_VARIABLES.map((v) => `notifications.variableHelp.${v}`),
      ...(['stray_close', 'unclosed_open', 'positional', 'conversion', 'format_spec', 'attribute', 'unknown'] satisfies TemplateProblemType[])
        .map((p) => `notifications.problems.${p}`),
      ...['escalation_only', 'no_recipients', 'no_channels'].map((p) => `notifications.ruleProblems.${p}`),
      ...REPLY_PLACEHOLDERS.map((p) => `canned.placeholderHelp.${p}`),
      ...CLOCKS.map((c) => `sla.clockHints.${c}`),
      ...WEEKDAYS.map((d) => `sla.weekdays.${d}`), 'sla.dayRange',
      ...['minutes', 'hours', 'days'].flatMap((u) => [`sla.units.${u}`, `sla.unitShort.${u}`]),
      ...['supervisor', 'admin', 'assignee'].map((n) => `sla.notify.${n}`),
      ...['name', 'nameLong', 'noTarget', 'warn', 'escalation', 'calendarId', 'idTaken', 'neverOpen'].map((p) => `sla.problems.${p}`),
      ...['direct', 'round_robin', 'grab'].map((m) => `teams.modes.${m}`),
      ...passwordProblems('', 'abcd@x.cn').concat(['email']).map((p) => `staff.password.${p}`),
      ...['pending', 'succeeded', 'failed'].map((s) => `webhooks.statuses.${s}`),
      ...['tickets', 'people', 'company'].map((g) => `apiKeys.groups.${g}`),
      ...['tickets:read', 'tickets:write', 'tickets:dispatch', 'residents:read', 'residents:write', 'communities:read', 'communities:write',
        'tenant:read', 'staff:read', 'reports:read'].map((s) => `apiKeys.scopeNames.${s.replace(':', '_')}`),
    ]
    expect(wanted.filter((k) => !has(k))).toEqual([])
  })
})
