// The SLA preview's arithmetic: fixed cases worked out by hand (China's 2026 holidays, make-up workdays, hours past
// midnight, closures, a DST zone, an unpublished year), and — when the repository's virtualenv is there — the same
// cases computed by the server's own code (chalicelib.sla), which the preview must equal to the second.
import { describe, expect, it } from 'vitest'
import {
  addBusinessTime, buildCalendar, calendarFor, hoursOn, matchPolicy, previewSla, statutory, twentyFourSeven, weekday,
  weekdaysNineToSix, zonedInstant, type CalendarConfig, type SlaConfig, type SlaPolicy, type TicketFacts,
} from '@/lib/settings/slaPreview'

const H = 3600000
const iso = (ms: number) => new Date(ms).toISOString()
const at = (s: string) => Date.parse(s)

const office: CalendarConfig = {
  id: 'office', timezone: 'Asia/Shanghai', china_holidays: true,
  weekly_hours: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']] },
}
const lunch: CalendarConfig = {
  id: 'lunch', timezone: 'Asia/Shanghai', china_holidays: true, closures: ['2026-12-01'], extra_workdays: ['2026-12-06'],
  weekly_hours: {
    mon: [['08:30:00', '12:00:00'], ['13:30:00', '17:30:00']], tue: [['08:30', '12:00'], ['13:30', '17:30']],
    wed: [['08:30', '12:00'], ['13:30', '17:30']], thu: [['08:30', '12:00'], ['13:30', '17:30']], fri: [['08:30', '12:00'], ['13:30', '17:30']],
    sat: [['09:00', '12:00']],
  },
}
const night: CalendarConfig = { id: 'night', timezone: 'Asia/Shanghai', china_holidays: false, weekly_hours: { fri: [['22:00', '06:00']] } }
const allDay: CalendarConfig = { id: 'all-day', timezone: 'Asia/Shanghai', china_holidays: true, weekly_hours: { mon: [['00:00', '00:00']], sat: [['00:00', '00:00']] } }
const newYork: CalendarConfig = { id: 'nyc', timezone: 'America/New_York', china_holidays: false,
  weekly_hours: { mon: [['01:00', '03:00']], sun: [['01:00', '03:00']], sat: [['01:00', '03:00']] } }

const policies: SlaPolicy[] = [
  { name: '紧急', match: { kind: 'emergency' }, targets: { first_response: 'PT15M', on_site: 'PT15M', resolution: 'PT2H' }, calendar: '24x7' },
  { name: '报修', match: { kind: 'repair' }, targets: { first_response: 'PT30M', next_reply: 'PT2H', on_site: 'PT4H', resolution: 'P2D' }, calendar: 'office' },
  { name: '投诉', match: { kind: 'complaint', priority: 'P2' }, targets: { first_response: 'PT1H', resolution: 'P7D' }, calendar: 'lunch' },
  { name: '夜班', match: { kind: 'inquiry', category: '夜间' }, targets: { first_response: 'PT3H' }, calendar: 'night' },
  { name: '缺日历', match: { kind: 'inquiry' }, targets: { first_response: 'PT4H' }, calendar: 'nowhere' },
  { name: '默认', match: {}, targets: { first_response: 'PT15M' }, calendar: '24x7' },
]
const config: SlaConfig = { sla_policies: policies, calendars: [office, lunch, night, allDay, newYork], community_calendars: { com_cuiyuan: 'lunch' } }

describe('dates and zones', () => {
  it('finds weekdays as Python does (Monday 0)', () => {
    expect(weekday('2026-11-30')).toBe(0)
    expect(weekday('2026-11-29')).toBe(6)
  })

  it('turns a local wall-clock time into an instant as Python does: the first of an ambiguous hour, the old offset in a gap', () => {
    expect(iso(zonedInstant('2026-03-09', '10:00', 'Asia/Shanghai'))).toBe('2026-03-09T02:00:00.000Z')
    expect(iso(zonedInstant('2026-11-01', '01:30', 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z') // EDT, fold=0
    expect(iso(zonedInstant('2026-03-08', '02:30', 'America/New_York'))).toBe('2026-03-08T07:30:00.000Z') // gap: offset before
  })
})

describe("China's statutory calendar", () => {
  it('knows 2026 holidays and make-up workdays', () => {
    expect(statutory('2026-10-01')).toEqual([true, false])
    expect(statutory('2026-10-10')).toEqual([false, true]) // a Saturday worked for National Day
    expect(statutory('2026-11-30')).toEqual([false, false])
    expect(statutory('2026-11-28')).toEqual([false, false]) // an ordinary Saturday
  })

  it('refuses a year whose schedule is not published', () => {
    expect(() => statutory('2027-01-04')).toThrow(/2027/)
  })
})

describe('business calendars', () => {
  const cal = buildCalendar(office)

  it('counts business hours across a weekend (the server docstring example)', () => {
    expect(iso(addBusinessTime(cal, at('2026-03-06T09:00:00Z'), 2 * H))).toBe('2026-03-09T02:00:00.000Z')
  })

  it('skips National Day and counts the make-up Saturday', () => {
    // Wed 30 Sep 17:00 + 3 h: 1 h that day, 1–7 Oct off, then Thu 8 Oct 09:00 + 2 h
    expect(iso(addBusinessTime(cal, at('2026-09-30T09:00:00Z'), 3 * H))).toBe('2026-10-08T03:00:00.000Z')
    // Fri 9 Oct 17:00 + 2 h: 1 h that day, 1 h on the make-up Saturday
    expect(iso(addBusinessTime(cal, at('2026-10-09T09:00:00Z'), 2 * H))).toBe('2026-10-10T02:00:00.000Z')
    expect(hoursOn(cal, '2026-10-10')).toEqual([['09:00', '18:00']])
    expect(hoursOn(cal, '2026-10-01')).toEqual([])
  })

  it('uses closures, extra workdays and split days', () => {
    const split = buildCalendar(lunch)
    expect(hoursOn(split, '2026-12-01')).toEqual([]) // closure on a Tuesday
    expect(hoursOn(split, '2026-12-06')).toEqual([['08:30:00', '12:00:00'], ['13:30:00', '17:30:00']]) // extra Sunday: Monday's hours
    // Mon 30 Nov 11:00 + 2 h: 1 h before lunch, 1 h after
    expect(iso(addBusinessTime(split, at('2026-11-30T03:00:00Z'), 2 * H))).toBe('2026-11-30T06:30:00.000Z')
  })

  it('runs hours past midnight', () => {
    const nights = buildCalendar(night)
    // Fri 27 Nov 23:00 + 3 h → Sat 02:00 local
    expect(iso(addBusinessTime(nights, at('2026-11-27T15:00:00Z'), 3 * H))).toBe('2026-11-27T18:00:00.000Z')
    // + 8 h: 7 h that night, then a week to the next Friday 22:00 + 1 h
    expect(iso(addBusinessTime(nights, at('2026-11-27T15:00:00Z'), 8 * H))).toBe('2026-12-04T15:00:00.000Z')
  })

  it('is 24×7 when always open', () => {
    expect(addBusinessTime(twentyFourSeven(), 1000, 5000)).toBe(6000)
    expect(hoursOn(weekdaysNineToSix(), '2026-11-30')).toEqual([['09:00', '18:00']])
  })
})

describe('policies', () => {
  const ticket = (t: Partial<TicketFacts>): TicketFacts => ({ kind: 'repair', priority: 'P3', ...t })

  it('takes the first policy that fits', () => {
    expect(matchPolicy(policies, ticket({})).policy.name).toBe('报修')
    expect(matchPolicy(policies, ticket({ kind: 'complaint', priority: 'P2' })).index).toBe(2)
    expect(matchPolicy(policies, ticket({ kind: 'complaint', priority: 'P3' })).policy.name).toBe('默认')
    expect(matchPolicy(policies.slice(0, 2), ticket({ kind: 'service' })).index).toBe(-1)
  })

  it("takes a community's own calendar over the policy's, never over 24×7", () => {
    expect(calendarFor(config, policies[1], 'com_cuiyuan')).toMatchObject({ source: 'community', id: 'lunch' })
    expect(calendarFor(config, policies[1], 'com_other')).toMatchObject({ source: 'policy', id: 'office' })
    expect(calendarFor(config, policies[0], 'com_cuiyuan')).toMatchObject({ source: '24x7' })
    expect(calendarFor(config, policies[4], null)).toMatchObject({ source: 'fallback' })
  })

  it('previews every clock of a new ticket; next_reply waits for the resident', () => {
    const preview = previewSla(config, ticket({ priority: 'P2' }), at('2026-11-27T09:00:00Z')) // Fri 17:00 Shanghai
    expect(preview.policy.name).toBe('报修')
    expect(preview.clocks.map((c) => [c.clock, c.dueMs === null ? null : iso(c.dueMs)])).toEqual([
      ['first_response', '2026-11-27T09:30:00.000Z'], // 17:30 the same Friday
      ['next_reply', null],
      ['on_site', '2026-11-30T04:00:00.000Z'], // 1 h Friday, 3 h Monday: 12:00
      ['resolution', '2026-12-07T03:00:00.000Z'], // 48 business hours: 1 + 5 × 9 + 2 → the next Monday 11:00
    ])
  })

  it('counts weekly hours only in a year without a published schedule, and says so', () => {
    const preview = previewSla(config, { kind: 'complaint', priority: 'P2' }, at('2026-12-30T01:00:00Z'))
    const resolution = preview.clocks.find((c) => c.clock === 'resolution')!
    expect(resolution.unknownYear).toBe(2027)
    expect(preview.clocks.find((c) => c.clock === 'first_response')!.unknownYear).toBeNull()
  })
})

// --- the server's own arithmetic --------------------------------------------------------------------------------

const SERVER = `
import json, sys
from chalicelib.core.clock import from_rfc3339
from chalicelib.sla import domain
from chalicelib.sla.policies import CalendarConfig, SlaPolicy, match_policy
from chalicelib.tenants.domain import TenantConfig
out = []
for case in json.load(sys.stdin):
    c = case["config"]  # built without the save-time checks: a stored policy may name a calendar since deleted
    config = TenantConfig.model_construct(sla_policies=[SlaPolicy.model_validate(p) for p in c["sla_policies"]],
                                          calendars=[CalendarConfig.model_validate(k) for k in c["calendars"]],
                                          community_calendars=c["community_calendars"])
    t = case["ticket"]
    policy = match_policy(config.policies(), kind=t["kind"], category=t.get("category"), priority=t["priority"],
                          community_id=t.get("community_id"))
    clocks, _ = domain.start(policy, from_rfc3339(case["now"]), config.calendar_for(t.get("community_id")))
    out.append({"policy": policy.name, "clocks": {name: {"due": c["due_at"], "note": bool(c.get("calendar_note"))}
                                                  for name, c in clocks.items()}})
print(json.dumps(out))
`

async function python(script: string, input: unknown): Promise<unknown | null> {
  // node's modules are imported by a computed name: the console's type check has no @types/node
  const fs = await import(['node', 'fs'].join(':'))
  const cp = await import(['node', 'child_process'].join(':'))
  const root = new URL('../../../', import.meta.url).pathname
  const bin = `${root}.venv/bin/python`
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: make test-web installs it first`)
  const text = cp.execFileSync(bin, ['-c', script], { cwd: root, input: JSON.stringify(input), encoding: 'utf8' })
  return JSON.parse(text)
}

describe('the preview equals the server', () => {
  it('for every clock of many tickets, calendars and moments', async () => {
    const tickets: TicketFacts[] = [
      { kind: 'repair', priority: 'P2' }, { kind: 'repair', priority: 'P1', community_id: 'com_cuiyuan' },
      { kind: 'complaint', priority: 'P2' }, { kind: 'inquiry', priority: 'P4', category: '夜间' }, { kind: 'inquiry', priority: 'P4' },
      { kind: 'emergency', priority: 'P1', community_id: 'com_cuiyuan' }, { kind: 'service', priority: 'P3' },
    ]
    const moments = ['2026-09-30T09:00:00Z', '2026-10-09T23:59:30Z', '2026-11-27T09:00:00Z', '2026-11-28T02:15:00Z',
      '2026-12-24T10:00:00Z', '2026-12-31T15:59:00Z', '2026-02-13T20:00:00Z', '2026-05-08T07:45:12Z']
    const extra: SlaConfig[] = [
      { ...config, sla_policies: [{ name: '全天', match: {}, targets: { first_response: 'PT90M', resolution: 'P3D' }, calendar: 'all-day' }] },
      { ...config, sla_policies: [{ name: '纽约', match: {}, targets: { first_response: 'PT150M', resolution: 'PT7H' }, calendar: 'nyc' }] },
    ]
    const cases = [
      ...tickets.flatMap((ticket) => moments.map((now) => ({ config, ticket, now }))),
      ...extra.flatMap((c) => ['2026-03-07T06:00:00Z', '2026-10-31T06:30:00Z', '2026-11-29T17:00:00Z'].map((now) => ({ config: c, ticket: tickets[0], now }))),
    ]
    const server = (await python(SERVER, cases)) as { policy: string; clocks: Record<string, { due: string | null; note: boolean }> }[] | null

    cases.forEach((c, i) => {
      const mine = previewSla(c.config, c.ticket, at(c.now))
      const label = `${c.ticket.kind}/${c.ticket.priority} at ${c.now} on ${mine.policy.name}`
      expect(mine.policy.name, label).toBe(server[i].policy)
      const theirs = Object.fromEntries(Object.entries(server[i].clocks).map(([k, v]) => [k, [v.due ? at(v.due) : null, v.note]]))
      const ours = Object.fromEntries(mine.clocks.filter((k) => k.clock !== 'next_reply').map((k) => [k.clock, [k.dueMs, k.unknownYear !== null]]))
      expect(ours, label).toEqual(theirs)
    })
  }, 60000)
})
