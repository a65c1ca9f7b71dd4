// Dates and numbers as a resident reads them (Beijing time on the phone's own clock).
import type { Ticket } from '@/api/types'
import { t } from '@/locale'

const pad = (n: number) => String(n).padStart(2, '0')

export function shortTime(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return ''
  const d = new Date(iso)
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`
  if (d.toDateString() === now.toDateString()) return hm
  if (d.getFullYear() === now.getFullYear()) return `${d.getMonth() + 1}月${d.getDate()}日 ${hm}`
  return `${d.getFullYear()}年${d.getMonth() + 1}月${d.getDate()}日`
}

export function visitText(window: { start?: unknown; end?: unknown } | null | undefined): string {
  if (!window || typeof window.start !== 'string' || typeof window.end !== 'string') return ''
  const start = new Date(window.start)
  const end = new Date(window.end)
  return `${start.getMonth() + 1}月${start.getDate()}日 ${pad(start.getHours())}:00-${pad(end.getHours())}:00`
}

export function statusText(status: string): string {
  return t(`status.${status}`)
}

export function placeText(ticket: Pick<Ticket, 'location'>, unitLabel?: (unitId: string) => string | null): string {
  const loc = ticket.location as { unit_id?: string | null; common_area?: string | null; label?: string | null }
  if (loc.common_area) return loc.common_area
  if (loc.label) return String(loc.label)
  return (loc.unit_id && unitLabel?.(loc.unit_id)) || ''
}

/** "2小时5分" for a duration in seconds. */
export function duration(seconds: number): string {
  const s = Math.abs(Math.round(seconds))
  const days = Math.floor(s / 86400)
  const hours = Math.floor((s % 86400) / 3600)
  const minutes = Math.floor((s % 3600) / 60)
  if (days) return `${days}天${hours}小时`
  if (hours) return `${hours}小时${minutes}分`
  return `${Math.max(1, minutes)}分钟`
}
