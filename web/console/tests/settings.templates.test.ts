// Template checks and rendering as the server does them (chalicelib/notifications/templates.py, rules.py,
// tenants/reply_templates.py): the server's docstring examples, and — with the virtualenv — a batch of texts checked
// and rendered by the server's own functions.
import { describe, expect, it } from 'vitest'
import { DEFAULT_TEMPLATES, plan, ruleProblem, templateInEffect, type Rule } from '@/lib/settings/notifications'
import {
  NOTIFICATION_VARIABLES, REPLY_PLACEHOLDERS, braced, checkTemplate, fieldsOf, insertAt, renderReply, renderTemplate,
} from '@/lib/settings/templates'

describe('template checks', () => {
  const known = ['brand', 'number']

  it('accepts plain fields and doubled braces', () => {
    expect(checkTemplate('【{brand}】工单{number}已受理 {{不是变量}}', known)).toBeNull()
  })

  it('says what is wrong and what to write', () => {
    expect(checkTemplate('{number:>999999999}', known)).toMatchObject({ type: 'format_spec', field: '{number:>999999999}', suggestion: '{number}' })
    expect(checkTemplate('{number!r}', known)).toMatchObject({ type: 'conversion', suggestion: '{number}' })
    expect(checkTemplate('{number.__class__}', known)).toMatchObject({ type: 'attribute' })
    expect(checkTemplate('{number[0]}', known)).toMatchObject({ type: 'attribute' })
    expect(checkTemplate('{} and {0}', known)).toMatchObject({ type: 'positional', field: '{}' })
    expect(checkTemplate('{password}', known)).toMatchObject({ type: 'unknown', suggestion: null })
    expect(checkTemplate('a } b', known)).toMatchObject({ type: 'stray_close', position: 3 })
    expect(checkTemplate('a { b', known)).toMatchObject({ type: 'unclosed_open', position: 3 })
  })
})

describe('rendering', () => {
  it('substitutes once, left to right, and keeps what is not a field', () => {
    expect(renderTemplate('工单{number}（{unit}）{{原样}}', { number: '26112700001', unit: '1栋101' }, 100)).toBe('工单26112700001（1栋101）{原样}')
    expect(renderTemplate('{number:>999999999}{number!r}', { number: '1' }, 100)).toBe('{number:>999999999}{number!r}')
    expect(renderTemplate('{a}', { a: '{b}', b: 'x' }, 100)).toBe('{b}')
  })

  it('cuts at the cap with an ellipsis', () => {
    expect(renderTemplate('{unit}'.repeat(50), { unit: '1栋2单元1201' }, 20)).toBe('1栋2单元12011栋2单元12011…')
  })

  it('renders a canned reply and names the placeholders it had no value for', () => {
    expect(renderReply('{resident_name}您好，请致电{service_phone}。{{备注}}', { resident_name: '陈阿姨' }))
      .toEqual({ text: '陈阿姨您好，请致电。{备注}', missing: ['service_phone'] })
    expect(fieldsOf('{{不是变量}} 工单{number}（{unit}）{number}')).toEqual(['number', 'unit', 'number'])
  })

  it('inserts a placeholder at the caret or over the selection', () => {
    expect(insertAt('您好，', braced('resident_name'), 0)).toEqual({ text: '{resident_name}您好，', caret: 15 })
    expect(insertAt('abcdef', 'X', 2, 4)).toEqual({ text: 'abXef', caret: 3 })
    expect(insertAt('abc', 'X', undefined)).toEqual({ text: 'abcX', caret: 4 })
  })
})

describe('notification texts', () => {
  const settings = { templates: { 'ticket.resolved': { sms: { 'zh-CN': '{brand}：{number}修好了' } } } }

  it("takes the tenant's text, then its Chinese one, then the emergency page, then the built-in text", () => {
    expect(templateInEffect(settings, 'ticket.resolved', 'sms', 'zh-CN')).toEqual({ text: '{brand}：{number}修好了', source: 'custom' })
    expect(templateInEffect(settings, 'ticket.resolved', 'sms', 'en').source).toBe('custom_zh')
    expect(templateInEffect(settings, 'ticket.resolved', 'inbox', 'en').text).toBe(DEFAULT_TEMPLATES['ticket.resolved'].en)
    expect(templateInEffect({}, 'ticket.created', 'sms', 'zh-CN', true).text).toContain('紧急工单')
    expect(templateInEffect({}, 'ticket.closed', 'sms', 'en').text).toBe(DEFAULT_TEMPLATES.generic.en)
  })

  it('plans recipients and channels as the server does', () => {
    const rules: Rule[] = [
      { event: 'ticket.created', recipients: ['on_duty_supervisors'], channels: ['sms', 'inbox'], kinds: ['emergency'] },
      { event: 'ticket.created', recipients: ['butler'], channels: ['inbox'] },
    ]
    expect(plan(rules, 'ticket.created', 'emergency')).toEqual([['on_duty_supervisors', 'sms'], ['on_duty_supervisors', 'inbox'], ['butler', 'inbox']])
    expect(plan(rules, 'ticket.created', 'repair')).toEqual([['butler', 'inbox']])
    expect(ruleProblem({ event: 'ticket.created', recipients: ['escalation'], channels: ['sms'] })).toBe('escalation_only')
    expect(ruleProblem({ event: 'sla.escalated', recipients: ['escalation'], channels: ['sms'] })).toBeNull()
  })
})

// --- the server's own functions ---------------------------------------------------------------------------------

const SERVER = `
import json, sys
from chalicelib.notifications import templates, rules
from chalicelib.notifications.rules import NotificationSettings, render as render_message
from chalicelib.tenants import reply_templates
case = json.load(sys.stdin)
out = {"checks": [], "renders": [], "defaults": {}, "replies": []}
for text in case["texts"]:
    try:
        templates.check(text, rules.VARIABLES); out["checks"].append(None)
    except templates.TemplateError as exc:
        out["checks"].append(str(exc))
    out["renders"].append([templates.render(text, case["values"], limit) for limit in (5, 12, 500)])
    out["replies"].append(list(reply_templates.render(text, case["reply_values"])))
for event in case["events"]:
    for locale in ("zh-CN", "en"):
        out["defaults"][event + "|" + locale] = render_message(NotificationSettings(), event, "inbox", locale, {})
out["emergency"] = {l: render_message(NotificationSettings(), "ticket.created", "sms", l, {}, emergency=True) for l in ("zh-CN", "en")}
out["variables"] = sorted(rules.VARIABLES)
out["placeholders"] = list(reply_templates.PLACEHOLDERS)
print(json.dumps(out, ensure_ascii=False))
`

async function python(script: string, input: unknown): Promise<unknown | null> {
  const fs = await import(['node', 'fs'].join(':')) // computed names: the console's type check has no @types/node
  const cp = await import(['node', 'child_process'].join(':'))
  const root = new URL('../../../', import.meta.url).pathname
  const bin = `${root}.venv/bin/python`
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: make test-web installs it first`)
  return JSON.parse(cp.execFileSync(bin, ['-c', script], { cwd: root, input: JSON.stringify(input), encoding: 'utf8' }))
}

describe('the console equals the server', () => {
  it('checks, renders and falls back to the same texts', async () => {
    const texts = [
      '【{brand}】工单{number}已受理', '{{brace}} {number}', '{number:>9}', '{number!r}', '{number.x}', '{number[0]}', '{}', '{0}',
      '{ number }', '{Number}', 'a}b', 'a{b', '{{{number}}}', '}}{{', '{unit}{unit}{unit}', '{resident_name}您好，{service_phone}', '😀{brand}😀😀😀',
      '{password}', '{brand', 'x{}}', '{{}', '',
    ]
    const values = { brand: '绿城', number: '26112700001', unit: '1栋2单元1201' }
    const replyValues = { resident_name: '陈阿姨', ticket_number: '1', staff_name: '', service_phone: null }
    const events = Object.keys(DEFAULT_TEMPLATES).filter((e) => e !== 'generic').concat(['ticket.closed', 'ticket.merged'])
    const server = (await python(SERVER, { texts, values, reply_values: replyValues, events })) as {
      checks: (string | null)[]; renders: string[][]; replies: [string, string[]][]; defaults: Record<string, string>
      emergency: Record<string, string>; variables: string[]; placeholders: string[]
    } | null

    expect([...NOTIFICATION_VARIABLES].sort()).toEqual(server.variables)
    expect([...REPLY_PLACEHOLDERS]).toEqual(server.placeholders)
    texts.forEach((text, i) => {
      expect(checkTemplate(text, NOTIFICATION_VARIABLES) === null, text).toBe(server.checks[i] === null)
      expect([5, 12, 500].map((limit) => renderTemplate(text, values, limit)), text).toEqual(server.renders[i])
      const reply = renderReply(text, replyValues)
      expect([reply.text, reply.missing], text).toEqual(server.replies[i])
    })
    for (const event of events) for (const locale of ['zh-CN', 'en'] as const) {
      expect(renderTemplate(templateInEffect({}, event, 'inbox', locale).text, {}, 1000), `${event} ${locale}`).toBe(server.defaults[`${event}|${locale}`])
    }
    for (const locale of ['zh-CN', 'en'] as const) {
      expect(renderTemplate(templateInEffect({}, 'ticket.created', 'sms', locale, true).text, {}, 500)).toBe(server.emergency[locale])
    }
  }, 30000)
})
