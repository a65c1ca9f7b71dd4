// When a new ticket's SLA clocks fall due: the server's arithmetic, mirrored in the console so the SLA settings
// screen previews a policy before it is saved. Pure (now is passed in). Mirrors, rule for rule:
// - chalicelib/sla/policies.py   match_policy (first match wins; the built-in catch-all when none does)
// - chalicelib/tenants/domain.py TenantConfig.calendar_for (a community's own calendar overrides the policy's;
//                                an unknown calendar counts 09:00–18:00 on weekdays)
// - chalicelib/sla/calendar.py   BusinessCalendar.hours_on / add (weekly hours in the calendar's time zone,
//                                closures, extra workdays, China's statutory holidays and make-up workdays, hours
//                                past midnight)
// - chalicelib/sla/domain.py     start (next_reply waits for the resident's message; a year whose holiday
//                                schedule is unpublished counts weekly hours only, with a note)
// tests/settings.slaPreview.test.ts checks these against the Python code when the virtualenv is there.
import type { components } from '@/api'
import { HOLIDAYS, PUBLISHED_YEARS, WORKDAYS } from './chinaHolidays'
import { durationSeconds } from './durations'

export type CalendarConfig = components['schemas']['CalendarConfig']
export type SlaPolicy = components['schemas']['SlaPolicy']
export type ClockName = 'first_response' | 'next_reply' | 'on_site' | 'resolution'

export const CLOCKS: ClockName[] = ['first_response', 'next_reply', 'on_site', 'resolution']
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export const TWENTY_FOUR_SEVEN = '24x7'
const MAX_DAYS = 800
const DAY_MS = 86400000

export interface SlaConfig {
  sla_policies: SlaPolicy[]
  calendars: CalendarConfig[]
  community_calendars: Record<string, string>
}

export interface TicketFacts {
  kind: string
  category?: string | null
  priority: string
  community_id?: string | null
}

/** [opens, closes] as local wall-clock times "HH:MM" or "HH:MM:SS"; closes ≤ opens runs past midnight. */
export type Interval = [string, string]

export interface BusinessCalendar {
  timezone: string
  weekly: Interval[][] // Monday first, as Python's weekday()
  chinaHolidays: boolean
  closures: Set<string>
  extraWorkdays: Set<string>
  alwaysOpen: boolean
}

export class CalendarYearUnknownError extends Error {
  constructor(readonly year: number) {
    super(`China's holiday schedule for ${year} is not published`)
  }
}

export class CalendarNeverOpenError extends Error {
  constructor() {
    super('The calendar has no opening hours in the next two years.')
  }
}

// --- dates and time zones -------------------------------------------------------------------------------------

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The wall clock of an instant in a zone: [year, month, day, hour, minute, second]. */
function wallClock(ms: number, timeZone: string): number[] {
  const parts = formatter(timeZone).formatToParts(new Date(ms))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return [get('year'), get('month'), get('day'), get('hour') % 24, get('minute'), get('second')]
}

/** The zone's UTC offset at an instant, in ms (whole seconds, like IANA data). */
export function zoneOffset(ms: number, timeZone: string): number {
  const [y, mo, d, h, mi, s] = wallClock(ms, timeZone)
  return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000
}

/** The local date of an instant in a zone: "YYYY-MM-DD". */
export function localDate(ms: number, timeZone: string): string {
  const [y, mo, d] = wallClock(ms, timeZone)
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10)
}

/** Python's date.weekday(): Monday 0 … Sunday 6. */
export function weekday(day: string): number {
  return (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7
}

function timeParts(time: string): [number, number, number] {
  const [h, m, s] = time.split(':').map(Number)
  return [h || 0, m || 0, Math.floor(s || 0)]
}

function seconds(time: string): number {
  const [h, m, s] = timeParts(time)
  return h * 3600 + m * 60 + s
}

/** A local date and wall-clock time as a "wall" number: the ms of those fields read as UTC (no zone applied). */
export function wallClockMs(day: string, time: string): number {
  const [y, mo, d] = day.split('-').map(Number)
  const [h, mi, s] = timeParts(time)
  return Date.UTC(y, mo - 1, d, h, mi, s)
}

/** The instant of a wall-clock time in a zone, as Python's datetime(…, tzinfo=ZoneInfo(zone)) reads it (fold=0):
 * an ambiguous time is its first occurrence, a time in a spring-forward gap uses the offset from before the gap. */
export function instantOfWall(wall: number, timeZone: string): number {
  const before = zoneOffset(wall - 1.5 * DAY_MS, timeZone)
  const after = zoneOffset(wall + 1.5 * DAY_MS, timeZone)
  if (before === after) return wall - before
  const valid = [before, after].filter((offset) => zoneOffset(wall - offset, timeZone) === offset).map((o) => wall - o)
  return valid.length ? Math.min(...valid) : wall - before
}

/** The instant of a local date and wall-clock time in a zone (datetime.combine(day, time, ZoneInfo(zone))). */
export function zonedInstant(day: string, time: string, timeZone: string): number {
  return instantOfWall(wallClockMs(day, time), timeZone)
}

// --- China's statutory calendar -------------------------------------------------------------------------------

const holidaySets = new Map<number, { holidays: Set<string>; workdays: Set<string> }>()

function yearSets(year: number) {
  let sets = holidaySets.get(year)
  if (!sets) {
    const split = (text: string | undefined) => new Set((text ?? '').split(' ').filter(Boolean))
    sets = { holidays: split(HOLIDAYS[year]), workdays: split(WORKDAYS[year]) }
    holidaySets.set(year, sets)
  }
  return sets
}

/** [statutory holiday, make-up workday] of a date, as chinese-calendar tells the server. */
export function statutory(day: string): [boolean, boolean] {
  const year = Number(day.slice(0, 4))
  if (year < PUBLISHED_YEARS.from || year > PUBLISHED_YEARS.to) throw new CalendarYearUnknownError(year)
  const key = day.slice(5, 7) + day.slice(8, 10)
  const { holidays, workdays } = yearSets(year)
  const inWorkdays = workdays.has(key)
  const holiday = !inWorkdays && holidays.has(key)
  const isWorkday = inWorkdays || (weekday(day) <= 4 && !holidays.has(key))
  return [holiday, isWorkday && weekday(day) >= 5]
}

// --- business calendars ---------------------------------------------------------------------------------------

export function twentyFourSeven(): BusinessCalendar {
  return { timezone: 'UTC', weekly: Array.from({ length: 7 }, () => []), chinaHolidays: false, closures: new Set(), extraWorkdays: new Set(), alwaysOpen: true }
}

/** What the server counts when a policy names a calendar that does not exist: 09:00–18:00, Monday to Friday. */
export function weekdaysNineToSix(): BusinessCalendar {
  const hours: Interval[] = [['09:00', '18:00']]
  return {
    timezone: 'Asia/Shanghai', weekly: [hours, hours, hours, hours, hours, [], []], chinaHolidays: true,
    closures: new Set(), extraWorkdays: new Set(), alwaysOpen: false,
  }
}

/** CalendarConfig.build(). */
export function buildCalendar(config: CalendarConfig): BusinessCalendar {
  const weekly = WEEKDAYS.map((d) => ((config.weekly_hours ?? defaultWeeklyHours())[d] ?? []).map(([a, b]) => [a, b] as Interval))
  return {
    timezone: config.timezone ?? 'Asia/Shanghai',
    weekly,
    chinaHolidays: config.china_holidays ?? true,
    closures: new Set(config.closures ?? []),
    extraWorkdays: new Set(config.extra_workdays ?? []),
    alwaysOpen: false,
  }
}

export function defaultWeeklyHours(): Record<string, [string, string][]> {
  return { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']] }
}

function workdayHours(cal: BusinessCalendar): Interval[] {
  return cal.weekly.slice(0, 5).find((h) => h.length) ?? []
}

/** Opening intervals on a local date. */
export function hoursOn(cal: BusinessCalendar, day: string): Interval[] {
  const wd = weekday(day)
  if (cal.closures.has(day)) return []
  if (cal.extraWorkdays.has(day)) return cal.weekly[wd].length ? cal.weekly[wd] : workdayHours(cal)
  if (cal.chinaHolidays) {
    const [holiday, makeup] = statutory(day)
    if (holiday) return []
    if (makeup) return cal.weekly[wd].length ? cal.weekly[wd] : workdayHours(cal)
  }
  return cal.weekly[wd]
}

/** The moment `durationMs` of business time after `startMs`.
 *
 * Python's arithmetic, exactly: the ticket's start is a UTC time and a window's ends are times in the calendar's
 * zone, so time from the start to a window's end is real time, while time from a window's opening to its end, and
 * an opening plus the time left, are wall-clock arithmetic (Python ignores the offset between two times of the same
 * zone). They differ only on a day the zone changes its clocks; Chinese calendars never do. */
export function addBusinessTime(cal: BusinessCalendar, startMs: number, durationMs: number): number {
  if (cal.alwaysOpen) return startMs + durationMs
  let remaining = durationMs
  let day = localDate(startMs, cal.timezone)
  for (let i = 0; i < MAX_DAYS; i++, day = addDays(day, 1)) {
    for (const [opens, closes] of hoursOn(cal, day)) {
      const openWall = wallClockMs(day, opens)
      const closeWall = wallClockMs(seconds(closes) <= seconds(opens) ? addDays(day, 1) : day, closes)
      const closeAt = instantOfWall(closeWall, cal.timezone)
      if (closeAt <= startMs) continue
      if (instantOfWall(openWall, cal.timezone) >= startMs) { // begin = the opening, in the calendar's zone
        const available = closeWall - openWall
        if (remaining <= available) return instantOfWall(openWall + remaining, cal.timezone)
        remaining -= available
      } else { // begin = the start, in UTC
        const available = closeAt - startMs
        if (remaining <= available) return startMs + remaining
        remaining -= available
      }
    }
  }
  throw new CalendarNeverOpenError()
}

// --- policies -------------------------------------------------------------------------------------------------

/** default_policies()[-1]: what the server falls back to when no policy matches. */
export const BUILT_IN_CATCH_ALL: SlaPolicy = { name: '默认', match: {}, targets: { first_response: 'PT15M' }, calendar: TWENTY_FOUR_SEVEN }

export function matches(policy: SlaPolicy, ticket: TicketFacts): boolean {
  const want = policy.match ?? {}
  const pairs: [unknown, unknown][] = [
    [want.kind, ticket.kind], [want.category, ticket.category ?? null], [want.priority, ticket.priority],
    [want.community_id, ticket.community_id ?? null],
  ]
  return pairs.every(([w, have]) => w === null || w === undefined || w === have)
}

/** The first policy whose match fits the ticket (index -1: none did; the server's built-in catch-all applies). */
export function matchPolicy(policies: SlaPolicy[], ticket: TicketFacts): { policy: SlaPolicy; index: number } {
  const index = policies.findIndex((p) => matches(p, ticket))
  return index >= 0 ? { policy: policies[index], index } : { policy: BUILT_IN_CATCH_ALL, index: -1 }
}

export type CalendarSource = '24x7' | 'policy' | 'community' | 'fallback'

/** The calendar a policy's clocks run on for a ticket in a community, and where it came from. */
export function calendarFor(config: SlaConfig, policy: SlaPolicy, communityId: string | null | undefined):
  { calendar: BusinessCalendar; source: CalendarSource; id: string | null } {
  const name = policy.calendar ?? TWENTY_FOUR_SEVEN
  if (name === TWENTY_FOUR_SEVEN) return { calendar: twentyFourSeven(), source: '24x7', id: null }
  const own = config.community_calendars[communityId ?? '']
  const byId = new Map(config.calendars.map((c) => [c.id, c]))
  const chosen = byId.get(own || name) ?? byId.get(name)
  if (!chosen) return { calendar: weekdaysNineToSix(), source: 'fallback', id: null }
  return { calendar: buildCalendar(chosen), source: own && byId.has(own) ? 'community' : 'policy', id: chosen.id }
}

export interface ClockPreview {
  clock: ClockName
  targetSeconds: number
  /** When the clock falls due for a ticket filed at `now`; null for next_reply, which starts with the resident's
   * next message. */
  dueMs: number | null
  /** The year whose holiday schedule is unknown: the server counted weekly hours only. */
  unknownYear: number | null
}

export interface SlaPreview {
  policy: SlaPolicy
  policyIndex: number
  calendarSource: CalendarSource
  calendarId: string | null
  clocks: ClockPreview[]
  error: 'never_open' | null
}

/** The clocks a ticket filed at `nowMs` starts with, and when each falls due. */
export function previewSla(config: SlaConfig, ticket: TicketFacts, nowMs: number): SlaPreview {
  const { policy, index } = matchPolicy(config.sla_policies, ticket)
  const { calendar, source, id } = calendarFor(config, policy, ticket.community_id)
  const clocks: ClockPreview[] = []
  let error: SlaPreview['error'] = null
  for (const clock of CLOCKS) {
    const raw = policy.targets[clock]
    if (raw === undefined) continue
    const targetSeconds = Math.trunc(durationSeconds(raw))
    if (clock === 'next_reply') {
      clocks.push({ clock, targetSeconds, dueMs: null, unknownYear: null })
      continue
    }
    try {
      const { dueMs, unknownYear } = addWithNote(calendar, nowMs, targetSeconds * 1000)
      clocks.push({ clock, targetSeconds, dueMs, unknownYear })
    } catch (err) {
      if (!(err instanceof CalendarNeverOpenError)) throw err
      error = 'never_open'
      clocks.push({ clock, targetSeconds, dueMs: null, unknownYear: null })
    }
  }
  return { policy, policyIndex: index, calendarSource: source, calendarId: id, clocks, error }
}

/** sla.domain._add: a year without a published holiday schedule counts weekly hours only. */
function addWithNote(cal: BusinessCalendar, startMs: number, durationMs: number): { dueMs: number; unknownYear: number | null } {
  try {
    return { dueMs: addBusinessTime(cal, startMs, durationMs), unknownYear: null }
  } catch (err) {
    if (!(err instanceof CalendarYearUnknownError)) throw err
    return { dueMs: addBusinessTime({ ...cal, chinaHolidays: false }, startMs, durationMs), unknownYear: err.year }
  }
}

/** Whether a calendar counts business time at all (not 24×7): the screen then says the clock stops outside it. */
export function isBusinessTime(source: CalendarSource): boolean {
  return source !== '24x7'
}
