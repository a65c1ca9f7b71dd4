// SLA policies and business calendars as the settings forms hold them (numbers with units, one row per weekday)
// and back to the API's shapes (ISO 8601 durations, "HH:MM" pairs). Pure.
import { durationSeconds, isoDuration, joinDuration, splitDuration, type DurationUnit } from './durations'
import { CLOCKS, TWENTY_FOUR_SEVEN, WEEKDAYS, defaultWeeklyHours, type CalendarConfig, type ClockName, type SlaPolicy } from './slaPreview'

export type Notify = 'supervisor' | 'admin' | 'assignee'
export type Priority = 'P1' | 'P2' | 'P3' | 'P4'

export interface TargetForm { on: boolean; value: number; unit: DurationUnit }
export interface EscalationForm { value: number; unit: DurationUnit; notify: Notify }
export interface PolicyForm {
  name: string
  match: { kind: string; category: string; priority: Priority | ''; community_id: string }
  targets: Record<ClockName, TargetForm>
  calendar: string
  warnPercent: number
  pause_when_waiting: ClockName[]
  escalation: EscalationForm[]
}

export interface CalendarForm {
  id: string
  timezone: string
  days: Record<(typeof WEEKDAYS)[number], [string, string][]>
  china_holidays: boolean
  closures: string[]
  extra_workdays: string[]
  saved: boolean
}

const hhmm = (time: string) => time.slice(0, 5)

export function policyForm(policy: SlaPolicy): PolicyForm {
  const targets = {} as Record<ClockName, TargetForm>
  for (const clock of CLOCKS) {
    const raw = policy.targets[clock]
    const seconds = raw === undefined ? Number.NaN : durationSeconds(raw)
    targets[clock] = Number.isFinite(seconds) && seconds > 0 ? { on: true, ...splitDuration(seconds) } : { on: false, value: 1, unit: 'hours' }
  }
  const m = policy.match ?? {}
  return {
    name: policy.name,
    match: { kind: m.kind ?? '', category: m.category ?? '', priority: (m.priority ?? '') as Priority | '', community_id: m.community_id ?? '' },
    targets,
    calendar: policy.calendar ?? TWENTY_FOUR_SEVEN,
    warnPercent: Math.round((policy.warn_at ?? 0.75) * 100),
    pause_when_waiting: [...(policy.pause_when_waiting ?? ['on_site', 'resolution'])] as ClockName[],
    escalation: (policy.escalation ?? [{ after: 'PT0S', notify: 'supervisor' }, { after: 'PT30M', notify: 'admin' }]).map((e) => ({
      ...splitDuration(durationSeconds(e.after ?? 'PT0S') || 0), notify: (e.notify ?? 'supervisor') as Notify,
    })),
  }
}

export function newPolicyForm(): PolicyForm {
  return policyForm({ name: '', targets: { first_response: 'PT15M' }, calendar: TWENTY_FOUR_SEVEN })
}

export function policyFromForm(form: PolicyForm): SlaPolicy {
  const targets: Record<string, string> = {}
  for (const clock of CLOCKS) {
    const target = form.targets[clock]
    if (target.on && target.value > 0) targets[clock] = isoDuration(joinDuration(target.value, target.unit))
  }
  const match: NonNullable<SlaPolicy['match']> = {}
  if (form.match.kind) match.kind = form.match.kind
  if (form.match.category) match.category = form.match.category
  if (form.match.priority) match.priority = form.match.priority
  if (form.match.community_id) match.community_id = form.match.community_id
  return {
    name: form.name.trim(), match, targets, calendar: form.calendar || TWENTY_FOUR_SEVEN,
    warn_at: Math.min(0.99, Math.max(0.01, form.warnPercent / 100)),
    pause_when_waiting: CLOCKS.filter((c) => form.pause_when_waiting.includes(c)),
    escalation: form.escalation.map((e) => ({ after: isoDuration(joinDuration(e.value, e.unit)), notify: e.notify })),
  }
}

/** Problems a policy form has before the server sees it (i18n keys under settings.sla.problems). */
export function policyProblems(form: PolicyForm): string[] {
  const problems: string[] = []
  if (!form.name.trim()) problems.push('name')
  if (form.name.trim().length > 60) problems.push('nameLong')
  if (!CLOCKS.some((c) => form.targets[c].on && form.targets[c].value > 0)) problems.push('noTarget')
  if (form.warnPercent <= 0 || form.warnPercent >= 100) problems.push('warn')
  if (form.escalation.some((e) => !(e.value >= 0))) problems.push('escalation')
  return problems
}

/** Whether a policy matches every ticket (the last one must). */
export function isCatchAll(policy: SlaPolicy): boolean {
  const m = policy.match ?? {}
  return !m.kind && !m.category && !m.priority && !m.community_id
}

export function calendarForm(config: CalendarConfig, saved = true): CalendarForm {
  const weekly = config.weekly_hours ?? defaultWeeklyHours()
  const days = {} as CalendarForm['days']
  for (const d of WEEKDAYS) days[d] = (weekly[d] ?? []).map(([a, b]) => [hhmm(a), hhmm(b)])
  return {
    id: config.id, timezone: config.timezone ?? 'Asia/Shanghai', days, china_holidays: config.china_holidays ?? true,
    closures: [...(config.closures ?? [])].sort(), extra_workdays: [...(config.extra_workdays ?? [])].sort(), saved,
  }
}

export function newCalendarForm(): CalendarForm {
  return calendarForm({ id: '', timezone: 'Asia/Shanghai', china_holidays: true, weekly_hours: defaultWeeklyHours() }, false)
}

export function calendarFromForm(form: CalendarForm): CalendarConfig {
  const weekly_hours: Record<string, [string, string][]> = {}
  for (const d of WEEKDAYS) if (form.days[d].length) weekly_hours[d] = form.days[d].map(([a, b]) => [a, b])
  return {
    id: form.id.trim(), timezone: form.timezone, weekly_hours, china_holidays: form.china_holidays,
    closures: [...new Set(form.closures)].sort(), extra_workdays: [...new Set(form.extra_workdays)].sort(),
  }
}

/** Minutes of opening per week, to tell a calendar that is never open. */
export function weeklyMinutes(form: CalendarForm): number {
  let total = 0
  for (const d of WEEKDAYS) for (const [a, b] of form.days[d]) {
    const [ah, am] = a.split(':').map(Number)
    const [bh, bm] = b.split(':').map(Number)
    const open = ah * 60 + am
    const close = bh * 60 + bm
    total += close <= open ? close + 1440 - open : close - open
  }
  return total
}

/** The community-calendar mapping as merge patches: the API's map cannot drop one entry (its values are strings,
 * a null is refused), so a removal needs the map cleared first, then the rest set again. */
export function communityCalendarPatches(before: Record<string, string>, after: Record<string, string>):
  Array<Record<string, string> | null> {
  const kept = Object.fromEntries(Object.entries(after).filter(([, v]) => v))
  const removed = Object.keys(before).some((k) => !kept[k])
  const changed = Object.entries(kept).some(([k, v]) => before[k] !== v)
  if (removed) return Object.keys(kept).length ? [null, kept] : [null]
  return changed ? [kept] : []
}

export type Weekday = (typeof WEEKDAYS)[number]

/** A calendar's week for reading: runs of consecutive days with the same hours ("mon–fri 09:00–18:00"). */
export function weeklyGroups(form: CalendarForm): { from: Weekday; to: Weekday; hours: string }[] {
  const groups: { from: Weekday; to: Weekday; hours: string }[] = []
  for (const d of WEEKDAYS) {
    const hours = form.days[d].map(([a, b]) => `${a}–${b}`).join(', ')
    const last = groups[groups.length - 1]
    if (hours && last && last.hours === hours && WEEKDAYS.indexOf(last.to) === WEEKDAYS.indexOf(d) - 1) last.to = d
    else if (hours) groups.push({ from: d, to: d, hours })
  }
  return groups
}
