import { describe, expect, it } from 'vitest'
import { badgeFor, splitMinutes, wholeMinutes } from '../src/lib/sla'

const NOW = Date.parse('2026-11-28T08:00:00Z')
const at = (minutes: number) => new Date(NOW + minutes * 60000).toISOString()

describe('the SLA badge', () => {
  it('counts down a running first response in whole minutes, green while more than a fifth is left', () => {
    const badge = badgeFor([{ clock: 'first_response', state: 'running', due_at: at(12.5), target_seconds: 900 }], NOW)
    expect(badge).toMatchObject({ clock: 'first_response', tone: 'success', key: 'running', minutes: 12 })
    expect(badge.left).toBeCloseTo(750 / 900)
  })

  it('turns amber when the server warned or the last fifth began', () => {
    expect(badgeFor([{ clock: 'first_response', state: 'running', due_at: at(2.9), target_seconds: 900 }], NOW))
      .toMatchObject({ tone: 'warning', key: 'warning', minutes: 2 })
    expect(badgeFor([{ clock: 'resolution', state: 'running', due_at: at(600), target_seconds: 86400, warned_at: at(-1) }], NOW))
      .toMatchObject({ tone: 'warning', key: 'warning', minutes: 600 })
  })

  it('shows a breach as soon as the deadline passes, before the server records it, rounding lateness up', () => {
    expect(badgeFor([{ clock: 'first_response', state: 'running', due_at: at(-0.2), target_seconds: 900 }], NOW))
      .toMatchObject({ tone: 'danger', key: 'breached', minutes: 1 })
    expect(badgeFor([{ clock: 'first_response', state: 'breached', due_at: at(-61), breached_at: at(-61), target_seconds: 900 }], NOW))
      .toMatchObject({ tone: 'danger', key: 'breached', minutes: 61 })
  })

  it('puts an open breach before a running clock, and the clock due first among running ones', () => {
    const clocks = [
      { clock: 'resolution', state: 'running', due_at: at(30), target_seconds: 86400 },
      { clock: 'first_response', state: 'breached', breached_at: at(-5), target_seconds: 900 },
    ]
    expect(badgeFor(clocks, NOW).clock).toBe('first_response')
    const running = [
      { clock: 'resolution', state: 'running', due_at: at(300), target_seconds: 86400 },
      { clock: 'on_site', state: 'running', due_at: at(45), target_seconds: 7200 },
    ]
    expect(badgeFor(running, NOW)).toMatchObject({ clock: 'on_site', minutes: 45 })
  })

  it('says paused, met or nothing when no clock counts', () => {
    expect(badgeFor([{ clock: 'resolution', state: 'paused', target_seconds: 86400 }], NOW)).toMatchObject({ key: 'paused', tone: 'info', minutes: null })
    expect(badgeFor([{ clock: 'first_response', state: 'met', met_at: at(-3) }], NOW)).toMatchObject({ key: 'met' })
    expect(badgeFor([], NOW)).toMatchObject({ key: 'none', clock: null })
    expect(badgeFor(null, NOW).key).toBe('none')
  })

  it('a met clock that was late is not shown as an open breach', () => {
    const clocks = [{ clock: 'first_response', state: 'breached', breached_at: at(-30), met_at: at(-10) }]
    expect(badgeFor(clocks, NOW).key).toBe('met')
  })

  it('rounds and splits durations', () => {
    expect(wholeMinutes(61, false)).toBe(1)
    expect(wholeMinutes(-1, true)).toBe(1)
    expect(wholeMinutes(-121, true)).toBe(3)
    expect(splitMinutes(1500)).toEqual({ days: 1, hours: 1, minutes: 0 })
  })
})
