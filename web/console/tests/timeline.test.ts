import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { messages } from '../src/i18n'
import { toLines, duration } from '../src/lib/timeline'

const i18n = createI18n({ legacy: false, locale: 'zh-CN', messages })
const t = i18n.global.t as unknown as (k: string, v?: Record<string, unknown>) => string
const event = (type: string, data: Record<string, unknown> = {}, changes: Record<string, unknown> = {}, actor: Record<string, unknown> = { type: 'staff', id: 'usr_1' }) =>
  ({ id: type, type, occurred_at: '2026-11-28T08:00:00Z', actor, changes, data })

describe('the ticket timeline in sentences', () => {
  it('writes the SLA ledger as sentences', () => {
    const lines = toLines([
      event('sla.started', { clock: 'first_response', target_seconds: 900, reason: 'ticket created' }, {}, { type: 'system' }),
      event('sla.paused', { clock: 'first_response', reason: 'waiting on the resident' }),
      event('sla.breached', { clock: 'resolution', reason: 'deadline passed without the goal reached' }, {}, { type: 'system' }),
      event('sla.warning', { clock: 'first_response', reason: '80% of the target used' }, {}, { type: 'system' }),
    ], {}, t)
    expect(lines.map((l) => l.text)).toEqual([
      '首次响应开始计时（目标 15分）', '首次响应计时暂停：等待业主回复', '解决已超时', '首次响应即将超时（已用 80%）',
    ])
    expect(lines.map((l) => l.tone)).toEqual(['info', 'info', 'danger', 'warning'])
    expect(lines[0].who).toBe('系统')
  })

  it('names staff and the new status and assignee from the change record', () => {
    const [assigned, started] = toLines([
      event('ticket.assigned', {}, { assignee_id: { before: null, after: 'usr_2' } }),
      event('ticket.status_changed', {}, { status: { before: 'assigned', after: 'in_progress' } }),
    ], { usr_1: '李娜', usr_2: '张强' }, t)
    expect(assigned).toMatchObject({ who: '李娜', text: '派单给 张强' })
    expect(started.text).toBe('状态变为「处理中」')
  })

  it('says who an integration and a resident are, and tells internal notes from replies', () => {
    const [note, reply] = toLines([
      event('ticket.commented', { visibility: 'internal' }, {}, { type: 'api_key', id: 'key_1' }),
      event('ticket.commented', { visibility: 'public' }, {}, { type: 'resident', id: 'res_1' }),
    ], {}, t)
    expect(note).toMatchObject({ who: '系统对接', text: '添加了内部备注' })
    expect(reply).toMatchObject({ who: '业主', text: '添加了回复业主' })
  })

  it('falls back to the type for an event it has no sentence for', () => {
    expect(toLines([event('ticket.something_new')], {}, t)[0].text).toBe('ticket.something_new')
  })

  it('writes durations in the largest units', () => {
    expect(duration(900, t)).toBe('15分')
    expect(duration(5400, t)).toBe('1小时30分')
    expect(duration(172800, t)).toBe('2天')
  })
})
