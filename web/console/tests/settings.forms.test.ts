// The settings forms' conversions and checks: SLA policies and calendars to and from the API's shapes, the
// community-calendar patches, and the field checks the forms make before the server does.
import { describe, expect, it } from 'vitest'
import {
  calendarForm, calendarFromForm, communityCalendarPatches, isCatchAll, newCalendarForm, newPolicyForm, policyForm, policyFromForm,
  policyProblems, weeklyGroups, weeklyMinutes,
} from '@/lib/settings/slaForms'
import type { SlaPolicy } from '@/lib/settings/slaPreview'
import { detailLines, fieldsUnder, generatePassword, isPhone, passwordProblems, textOn } from '@/lib/settings/validation'

describe('SLA policy forms', () => {
  const policy: SlaPolicy = {
    name: '报修', match: { kind: 'repair', category: null, priority: 'P1', community_id: null },
    targets: { first_response: 'PT15M', on_site: 'PT45M', resolution: 'PT12H' }, calendar: '24x7', warn_at: 0.75,
    pause_when_waiting: ['on_site', 'resolution'], escalation: [{ after: 'PT0S', notify: 'supervisor' }, { after: 'PT30M', notify: 'admin' }],
  }

  it('round-trips a policy as the API returns it', () => {
    const form = policyForm(policy)
    expect(form.targets.first_response).toEqual({ on: true, value: 15, unit: 'minutes' })
    expect(form.targets.resolution).toEqual({ on: true, value: 12, unit: 'hours' })
    expect(form.targets.next_reply.on).toBe(false)
    expect(policyFromForm(form)).toEqual({ ...policy, match: { kind: 'repair', priority: 'P1' } })
  })

  it('drops targets switched off and keeps the order of the clocks', () => {
    const form = policyForm(policy)
    form.targets.on_site.on = false
    form.targets.next_reply = { on: true, value: 2, unit: 'days' }
    expect(policyFromForm(form).targets).toEqual({ first_response: 'PT15M', next_reply: 'P2D', resolution: 'PT12H' })
  })

  it('finds what the server would refuse', () => {
    const form = newPolicyForm()
    expect(policyProblems(form)).toEqual(['name'])
    form.name = 'x'
    form.targets.first_response.on = false
    expect(policyProblems(form)).toEqual(['noTarget'])
    expect(isCatchAll(policy)).toBe(false)
    expect(isCatchAll({ name: '默认', match: { kind: null }, targets: {} })).toBe(true)
  })
})

describe('calendar forms', () => {
  it('round-trips a calendar, times as HH:MM and dates sorted', () => {
    const form = calendarForm({ id: 'office', timezone: 'Asia/Shanghai', china_holidays: true, closures: ['2026-12-31', '2026-12-01'],
      extra_workdays: [], weekly_hours: { mon: [['09:00:00', '12:00:00'], ['13:00:00', '18:00:00']], sat: [['22:00:00', '06:00:00']] } })
    expect(form.days.mon).toEqual([['09:00', '12:00'], ['13:00', '18:00']])
    expect(form.days.tue).toEqual([])
    expect(weeklyMinutes(form)).toBe(480 + 480)
    expect(calendarFromForm(form)).toEqual({ id: 'office', timezone: 'Asia/Shanghai', china_holidays: true,
      closures: ['2026-12-01', '2026-12-31'], extra_workdays: [], weekly_hours: { mon: [['09:00', '12:00'], ['13:00', '18:00']], sat: [['22:00', '06:00']] } })
  })

  it('starts a new calendar at 9–18 on weekdays, and counts 00:00–00:00 as a whole day', () => {
    const form = newCalendarForm()
    expect(weeklyMinutes(form)).toBe(5 * 540)
    form.days.sun = [['00:00', '00:00']]
    expect(weeklyMinutes(form)).toBe(5 * 540 + 1440)
  })
})

describe('a week for reading', () => {
  it('joins runs of days with the same hours', () => {
    const form = newCalendarForm()
    form.days.wed = [['09:00', '12:00']]
    form.days.sat = [['09:00', '12:00']]
    expect(weeklyGroups(form)).toEqual([
      { from: 'mon', to: 'tue', hours: '09:00–18:00' }, { from: 'wed', to: 'wed', hours: '09:00–12:00' },
      { from: 'thu', to: 'fri', hours: '09:00–18:00' }, { from: 'sat', to: 'sat', hours: '09:00–12:00' },
    ])
    expect(weeklyGroups(newCalendarForm())).toEqual([{ from: 'mon', to: 'fri', hours: '09:00–18:00' }])
  })
})

describe('community calendar patches', () => {
  it('sends nothing when nothing changed, one patch for additions, a clear then a set for removals', () => {
    expect(communityCalendarPatches({ a: 'x' }, { a: 'x' })).toEqual([])
    expect(communityCalendarPatches({ a: 'x' }, { a: 'x', b: 'y' })).toEqual([{ a: 'x', b: 'y' }])
    expect(communityCalendarPatches({ a: 'x', b: 'y' }, { a: 'x' })).toEqual([null, { a: 'x' }])
    expect(communityCalendarPatches({ a: 'x' }, {})).toEqual([null])
  })
})

describe('field checks', () => {
  it('knows the phone numbers the server accepts', () => {
    for (const ok of ['13800138000', '+8613800138000', '010-62345678', '0571 8888 8888', '400-800-1234', '4008001234']) expect(isPhone(ok), ok).toBe(true)
    for (const bad of ['12345', '12800138000', '400-80-1234', 'abc']) expect(isPhone(bad), bad).toBe(false)
  })

  it('tells weak passwords and makes strong ones', () => {
    expect(passwordProblems('short1')).toEqual(['length'])
    expect(passwordProblems('onlyletterslong')).toEqual(['mix'])
    expect(passwordProblems('aaaaaaaaaa1')).toEqual(['common'])
    expect(passwordProblems('wangmin2026x', 'wangmin@demo.test')).toEqual(['email'])
    for (let i = 0; i < 20; i++) expect(passwordProblems(generatePassword())).toEqual([])
  })

  it('picks a readable text colour for the primary colour', () => {
    expect(textOn('#1677FF')).toBe('#ffffff')
    expect(textOn('#FADB14')).toBe('#1f2329')
    expect(textOn('nonsense')).toBe('#ffffff')
  })

  it('reads 422 details for a form', () => {
    const details = [{ field: 'branding.primary_color', type: 'string_pattern_mismatch', message: 'String should match pattern' },
      { field: '', type: 'value_error', message: 'Value error, the last policy must match everything' }]
    expect(detailLines(details)).toEqual(['branding.primary_color: String should match pattern', 'Value error, the last policy must match everything'])
    expect(fieldsUnder({ 'branding.primary_color': 'bad', 'ticket_kinds.0.key': 'x' }, 'branding')).toEqual({ primary_color: 'bad' })
    expect(detailLines(null)).toEqual([])
  })
})
