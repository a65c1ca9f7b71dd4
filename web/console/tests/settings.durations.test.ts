import { describe, expect, it } from 'vitest'
import { durationParts, durationSeconds, isoDuration, joinDuration, splitDuration } from '@/lib/settings/durations'

describe('SLA durations', () => {
  it('reads the ISO 8601 durations pydantic writes', () => {
    expect(durationSeconds('PT15M')).toBe(900)
    expect(durationSeconds('P1D')).toBe(86400)
    expect(durationSeconds('P7D')).toBe(604800)
    expect(durationSeconds('P1DT2H30M5S')).toBe(95405)
    expect(durationSeconds('PT0.5S')).toBe(0.5)
    expect(durationSeconds('PT0S')).toBe(0)
    expect(durationSeconds(5400)).toBe(5400)
  })

  it('refuses what is not a duration', () => {
    for (const bad of ['', 'P', 'PT', '15m', 'P1H', null, undefined]) expect(durationSeconds(bad as never)).toBeNaN()
  })

  it('writes durations as pydantic does, and reads them back', () => {
    expect(isoDuration(900)).toBe('PT15M')
    expect(isoDuration(86400)).toBe('P1D')
    expect(isoDuration(95405)).toBe('P1DT2H30M5S')
    expect(isoDuration(43200)).toBe('PT12H')
    expect(isoDuration(0)).toBe('PT0S')
    for (const s of [60, 900, 5400, 86400, 90061, 604800]) expect(durationSeconds(isoDuration(s))).toBe(s)
  })

  it('shows a duration in the largest unit that holds it whole', () => {
    expect(splitDuration(900)).toEqual({ value: 15, unit: 'minutes' })
    expect(splitDuration(5400)).toEqual({ value: 90, unit: 'minutes' })
    expect(splitDuration(7200)).toEqual({ value: 2, unit: 'hours' })
    expect(splitDuration(172800)).toEqual({ value: 2, unit: 'days' })
    expect(splitDuration(0)).toEqual({ value: 0, unit: 'minutes' })
    expect(joinDuration(2, 'days')).toBe(172800)
    expect(joinDuration(1.5, 'hours')).toBe(5400)
  })

  it('reads a duration out in days, hours and minutes', () => {
    expect(durationParts(95400)).toEqual([{ unit: 'd', n: 1 }, { unit: 'h', n: 2 }, { unit: 'm', n: 30 }])
    expect(durationParts(3600)).toEqual([{ unit: 'h', n: 1 }])
    expect(durationParts(0)).toEqual([{ unit: 'm', n: 0 }])
  })
})
