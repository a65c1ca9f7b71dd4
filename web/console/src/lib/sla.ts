// The SLA badge on queue rows and the ticket header: which clock matters now, how long is left (or how late it
// is), and the colour. Pure arithmetic so it is unit-tested (tests/sla.test.ts); the server's view of each clock
// (sla/domain.py `view`) carries due_at, state and warned_at, and the badge keeps counting down between polls.

export type ClockState = 'running' | 'paused' | 'met' | 'breached' | 'stopped' | string

export interface Clock {
  clock: string
  state: ClockState
  due_at?: string | null
  target_seconds?: number | null
  warned_at?: string | null
  met_at?: string | null
  breached_at?: string | null
}

export type BadgeTone = 'danger' | 'warning' | 'success' | 'info'

export interface Badge {
  clock: string | null
  tone: BadgeTone
  /** i18n key under `sla.badge` */
  key: 'breached' | 'warning' | 'running' | 'paused' | 'met' | 'none'
  /** minutes left (running/warning) or late (breached); null when no clock is counting */
  minutes: number | null
  /** what is left as a fraction of the target (0–1), for a progress hint; null when unknown */
  left: number | null
}

const ORDER = ['first_response', 'next_reply', 'on_site', 'resolution']

/** Whole minutes, rounded towards "more urgent": 61 s left shows 1 min, 59 s late shows 1 min late. */
export function wholeMinutes(seconds: number, late: boolean): number {
  const minutes = Math.abs(seconds) / 60
  return late ? Math.max(1, Math.ceil(minutes)) : Math.floor(minutes)
}

/** The clock a person should look at: a breached one still open, else the running clock due first, else a
 * paused one, else the last met one. */
export function badgeFor(clocks: Clock[] | null | undefined, nowMs: number): Badge {
  const list = [...(clocks ?? [])].sort((a, b) => ORDER.indexOf(a.clock) - ORDER.indexOf(b.clock))
  const running = list.filter((c) => c.state === 'running' && c.due_at)
  const late = running
    .map((c) => ({ c, left: (Date.parse(c.due_at as string) - nowMs) / 1000 }))
    .sort((a, b) => a.left - b.left)
  const breached = list.find((c) => c.state === 'breached' && !c.met_at)
  if (breached) {
    const due = breached.breached_at ?? breached.due_at
    const seconds = due ? (nowMs - Date.parse(due)) / 1000 : 0
    return { clock: breached.clock, tone: 'danger', key: 'breached', minutes: wholeMinutes(seconds, true), left: 0 }
  }
  if (late.length) {
    const { c, left } = late[0]
    if (left < 0) {
      // due passed since the last poll: the server will record the breach within seconds; show it now
      return { clock: c.clock, tone: 'danger', key: 'breached', minutes: wholeMinutes(left, true), left: 0 }
    }
    const fraction = c.target_seconds ? Math.min(1, left / c.target_seconds) : null
    const warned = Boolean(c.warned_at) || (fraction !== null && fraction <= 0.2)
    return {
      clock: c.clock,
      tone: warned ? 'warning' : 'success',
      key: warned ? 'warning' : 'running',
      minutes: wholeMinutes(left, false),
      left: fraction,
    }
  }
  const paused = list.find((c) => c.state === 'paused')
  if (paused) return { clock: paused.clock, tone: 'info', key: 'paused', minutes: null, left: null }
  const met = list.filter((c) => c.state === 'met' || c.met_at)
  if (met.length) return { clock: met[met.length - 1].clock, tone: 'info', key: 'met', minutes: null, left: null }
  return { clock: null, tone: 'info', key: 'none', minutes: null, left: null }
}

/** "2 小时 5 分" / "2 h 5 min" style duration from minutes, for the badge text. */
export function splitMinutes(minutes: number): { days: number; hours: number; minutes: number } {
  const days = Math.floor(minutes / 1440)
  const hours = Math.floor((minutes % 1440) / 60)
  return { days, hours, minutes: minutes % 60 }
}
