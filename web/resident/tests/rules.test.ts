// Pure rules: photo resizing arithmetic, the report form's validation and body, the entry point, status steps and
// urgency order.
import { describe, expect, it } from 'vitest'
import { fitWithin, roomFor, acceptedType } from '@/platform/images'
import {
  isCode, isPhone, newIdempotencyKey, normalisePhone, ticketBody, validateReport, visitWindow, VISIT_SLOTS,
  type ReportDraft,
} from '@/lib/validation'
import { entryFromAddress, entryFromLaunch } from '@/lib/entry'
import { byUrgency, residentActions, stepOf } from '@/lib/status'
import { safeColor } from '@/stores/tenant'
import { t } from '@/locale'

describe('resizing photos to at most 1600 px', () => {
  it('scales the long side to 1600 and keeps the aspect ratio', () => {
    expect(fitWithin({ width: 4000, height: 3000 })).toEqual({ width: 1600, height: 1200 })
    expect(fitWithin({ width: 3024, height: 4032 })).toEqual({ width: 1200, height: 1600 })
    expect(fitWithin({ width: 12000, height: 100 })).toEqual({ width: 1600, height: 13 })
  })

  it('never enlarges and never rounds to zero', () => {
    expect(fitWithin({ width: 640, height: 480 })).toEqual({ width: 640, height: 480 })
    expect(fitWithin({ width: 1600, height: 1600 })).toEqual({ width: 1600, height: 1600 })
    expect(fitWithin({ width: 100000, height: 1 })).toEqual({ width: 1600, height: 1 })
  })

  it('refuses an image without a size', () => {
    expect(() => fitWithin({ width: 0, height: 10 })).toThrow()
  })

  it('offers room for nine photos in all, and sends unknown types as JPEG', () => {
    expect([roomFor(0), roomFor(7), roomFor(9), roomFor(12)]).toEqual([9, 2, 0, 0])
    expect([acceptedType('image/png'), acceptedType('image/gif'), acceptedType(undefined)])
      .toEqual(['image/png', 'image/jpeg', 'image/jpeg'])
  })
})

describe('sign-in fields', () => {
  it('reads a mainland mobile number as the API does', () => {
    expect(normalisePhone('+86 138-0000 0001')).toBe('13800000001')
    expect([isPhone('13800000001'), isPhone('12800000001'), isPhone('1380000000'), isPhone('（138）00000001')])
      .toEqual([true, false, false, true])
    expect([isCode('123456'), isCode(' 123456 '), isCode('12345'), isCode('12a456')]).toEqual([true, true, false, false])
  })
})

describe('the report form', () => {
  const draft = (over: Partial<ReportDraft> = {}): ReportDraft => ({
    kind: 'repair', category: '水电', communityId: 'cmt_1', unitId: 'unt_1', commonArea: '', place: 'unit',
    description: '厨房水管漏水', photos: ['att_1'], visit: null, ...over })

  it('accepts a complete draft and builds the API body for the own unit', () => {
    expect(validateReport(draft())).toEqual({})
    expect(ticketBody(draft(), 'h5')).toEqual({
      kind: 'repair', category: '水电', description: '厨房水管漏水', attachments: ['att_1'], preferred_visit: null,
      channel: 'h5', location: { community_id: 'cmt_1', unit_id: 'unt_1' } })
  })

  it('builds a common-area location without a unit', () => {
    const body = ticketBody(draft({ place: 'common', commonArea: ' 3栋电梯厅 ' }), 'mini_program')
    expect(body.location).toEqual({ community_id: 'cmt_1', common_area: '3栋电梯厅' })
    expect(body.channel).toBe('mini_program')
  })

  it('names what is missing', () => {
    expect(validateReport(draft({ kind: '' })).kind).toBe('report.needKind')
    expect(validateReport(draft({ unitId: null })).place).toBe('report.needUnit')
    expect(validateReport(draft({ place: 'common', commonArea: '  ' })).place).toBe('report.needCommonArea')
    expect(validateReport(draft({ communityId: null })).place).toBe('report.needCommunity')
    expect(validateReport(draft({ description: ' 漏 ' })).description).toBe('report.needDescription')
    expect(validateReport(draft({ description: 'x'.repeat(2001) })).description).toBe('report.descriptionTooLong')
    expect(validateReport(draft({ photos: Array(10).fill('a') })).photos).toBe('report.tooManyPhotos')
    expect(validateReport(draft({ photos: [] }), { photoRequired: true }).photos).toBe('report.needPhoto')
    expect(t('report.needUnit')).toBe('请选择房屋')
  })

  it('offers visit windows that have not passed', () => {
    const morning = VISIT_SLOTS[0]
    const at10 = new Date(2026, 10, 27, 10, 0)
    expect(visitWindow(at10, 0, morning)).not.toBeNull()
    expect(visitWindow(new Date(2026, 10, 27, 12, 30), 0, morning)).toBeNull()
    const tomorrow = visitWindow(at10, 1, VISIT_SLOTS[2])!
    expect(new Date(tomorrow.start).getDate()).toBe(28)
    expect(new Date(tomorrow.end).getHours() - new Date(tomorrow.start).getHours()).toBe(3)
    expect(validateReport(draft({ visit: { start: tomorrow.end, end: tomorrow.start } })).visit).toBe('report.badVisit')
  })

  it('gives every form its own Idempotency-Key', () => {
    const keys = new Set(Array.from({ length: 50 }, () => newIdempotencyKey()))
    expect(keys.size).toBe(50)
    expect([...keys].every((k) => /^[\x21-\x7e]{1,128}$/.test(k))).toBe(true)
  })
})

describe('the entry point', () => {
  it('reads the tenant and community from the H5 address', () => {
    expect(entryFromAddress('/r/demo/', '?c=cmt_9')).toEqual({ slug: 'demo', communityId: 'cmt_9' })
    expect(entryFromAddress('/r/lotus-42', '')).toEqual({ slug: 'lotus-42', communityId: null })
    expect(entryFromAddress('/', '?t=demo')).toEqual({ slug: 'demo', communityId: null })
    expect(entryFromAddress('/r/Bad_Slug/', '')).toBeNull()
    expect(entryFromAddress('/', '')).toBeNull()
  })

  it('reads the mini-program launch query or QR scene', () => {
    expect(entryFromLaunch({ t: 'demo', c: 'cmt_1' })).toEqual({ slug: 'demo', communityId: 'cmt_1' })
    expect(entryFromLaunch({ scene: encodeURIComponent('t=demo&c=cmt_2') })).toEqual({ slug: 'demo', communityId: 'cmt_2' })
    expect(entryFromLaunch({ scene: 'demo' })).toEqual({ slug: 'demo', communityId: null })
    expect(entryFromLaunch(undefined)).toBeNull()
  })
})

describe('status and urgency', () => {
  it('maps statuses to the resident steps', () => {
    expect(['new', 'acknowledged', 'assigned', 'in_progress', 'waiting_on_resident', 'resolved', 'closed', 'cancelled']
      .map(stepOf)).toEqual([0, 1, 2, 2, 2, 3, 4, -1])
  })

  it('offers only the resident actions the server allows, in a fixed order', () => {
    expect(residentActions(['rate', 'acknowledge', 'reopen', 'confirm'])).toEqual(['confirm', 'rate', 'reopen'])
  })

  it('orders jobs by priority, then the nearest deadline, then age', () => {
    const job = (number: string, priority: string, due: string | null, created = '2026-11-27T00:00:00Z') =>
      ({ number, priority, created_at: created, sla: due ? [{ due_at: due, state: 'running' }] : [] })
    const sorted = byUrgency([job('a', 'P3', '2026-11-27T05:00:00Z'), job('b', 'P1', null),
      job('c', 'P3', '2026-11-27T03:00:00Z'), job('d', 'P3', null, '2026-11-26T00:00:00Z')])
    expect(sorted.map((j) => j.number)).toEqual(['b', 'c', 'a', 'd'])
  })

  it('puts only a real colour into the theme', () => {
    expect(safeColor('#00A870')).toBe('#00A870')
    expect(safeColor('red;background:url(x)')).toBe('#1677FF')
    expect(safeColor(null)).toBe('#1677FF')
  })
})
