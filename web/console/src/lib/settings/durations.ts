// SLA targets and escalation delays travel as ISO 8601 durations (pydantic's timedelta: "PT15M", "P1D",
// "P1DT2H30M"); people edit them as a number and a unit. Pure.

export type DurationUnit = 'minutes' | 'hours' | 'days'

export const UNIT_SECONDS: Record<DurationUnit, number> = { minutes: 60, hours: 3600, days: 86400 }

const ISO = /^(-)?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/** Seconds of an ISO 8601 duration (or of a number of seconds, which the API also accepts); NaN when malformed. */
export function durationSeconds(value: string | number | null | undefined): number {
  if (typeof value === 'number') return value
  if (!value) return Number.NaN
  const m = ISO.exec(value.trim())
  if (!m || value.trim() === 'P' || value.trim().endsWith('T')) return Number.NaN
  const [, minus, w, d, h, min, s] = m
  const total = Number(w ?? 0) * 604800 + Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0)
  return minus ? -total : total
}

/** The ISO 8601 form of a number of seconds, as pydantic writes it: "PT15M", "P1D", "P1DT2H30M5S", "PT0S". */
export function isoDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds))
  const days = Math.floor(rest / 86400)
  rest -= days * 86400
  const hours = Math.floor(rest / 3600)
  rest -= hours * 3600
  const minutes = Math.floor(rest / 60)
  const secs = rest - minutes * 60
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${secs ? `${secs}S` : ''}`
  if (!days && !time) return 'PT0S'
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : ''}`
}

/** A duration as a person writes it: the largest unit that holds it whole (90 min stays minutes, 48 h is 2 days). */
export function splitDuration(seconds: number): { value: number; unit: DurationUnit } {
  if (seconds > 0 && seconds % 86400 === 0) return { value: seconds / 86400, unit: 'days' }
  if (seconds > 0 && seconds % 3600 === 0) return { value: seconds / 3600, unit: 'hours' }
  return { value: Math.round(seconds / 60), unit: 'minutes' }
}

export function joinDuration(value: number, unit: DurationUnit): number {
  return Math.round(value * UNIT_SECONDS[unit])
}

/** A duration in whole days, hours and minutes for reading ("1天2小时"), largest first, zero parts left out. */
export function durationParts(seconds: number): { unit: 'd' | 'h' | 'm'; n: number }[] {
  const total = Math.max(0, Math.round(seconds / 60))
  const parts: { unit: 'd' | 'h' | 'm'; n: number }[] = []
  const d = Math.floor(total / 1440)
  const h = Math.floor((total % 1440) / 60)
  const m = total % 60
  if (d) parts.push({ unit: 'd', n: d })
  if (h) parts.push({ unit: 'h', n: h })
  if (m || !parts.length) parts.push({ unit: 'm', n: m })
  return parts
}
