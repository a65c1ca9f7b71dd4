import { describe, expect, it } from 'vitest'
import { ageParts, classifySearch, dateTime, locationLine } from '../src/lib/format'

describe('display helpers', () => {
  it('tells a ticket number, a phone and a unit apart in the queue search', () => {
    expect(classifySearch(' 26112842972 ')).toEqual({ kind: 'number', value: '26112842972' })
    expect(classifySearch('138 0000 0001')).toEqual({ kind: 'phone', value: '13800000001' })
    expect(classifySearch('+8613800000001')).toEqual({ kind: 'phone', value: '13800000001' })
    expect(classifySearch('1栋1单元101')).toEqual({ kind: 'unit', value: '1栋1单元101' })
    expect(classifySearch('   ').kind).toBe('empty')
  })

  it('gives the age in the largest whole unit', () => {
    const now = Date.parse('2026-11-28T10:00:00Z')
    expect(ageParts('2026-11-28T09:58:30Z', now)).toEqual({ unit: 'm', n: 1 })
    expect(ageParts('2026-11-28T07:00:00Z', now)).toEqual({ unit: 'h', n: 3 })
    expect(ageParts('2026-11-25T10:00:00Z', now)).toEqual({ unit: 'd', n: 3 })
  })

  it('shows times in the tenant time zone', () => {
    expect(dateTime('2026-11-28T16:05:00Z')).toBe('2026-11-29 00:05')
    expect(dateTime(null)).toBe('')
  })

  it('writes a location with the community name', () => {
    expect(locationLine({ community_id: 'c1', unit_id: 'u1', label: '1栋1单元101' }, { c1: '翠苑' })).toBe('翠苑 · 1栋1单元101')
    expect(locationLine({ community_id: 'c1', common_area: '3栋电梯厅' }, { c1: '翠苑' })).toBe('翠苑 · 3栋电梯厅')
  })
})
