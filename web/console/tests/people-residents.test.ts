import { describe, expect, it } from 'vitest'
import { exportFilename, isMasked, normalisePhone, residentBody, residentPatch, unitLine, withUnit, type ResidentForm } from '@/lib/people/residents'

const unitA = { unit_id: 'unt_a', community_id: 'com_1', relation: 'owner' as const, label: '1栋2单元202' }
const unitB = { unit_id: 'unt_b', community_id: 'com_2', relation: 'family' as const, label: '3栋101' }

describe('unitLine', () => {
  it('shows a unit with its community name', () => {
    expect(unitLine(unitA, { com_1: '翠苑小区' })).toBe('翠苑小区 1栋2单元202')
    expect(unitLine(unitA, {})).toBe('1栋2单元202')
  })
})

describe('phones', () => {
  it('accepts a mainland mobile number however it was typed', () => {
    expect(normalisePhone('138 0000 0001')).toBe('13800000001')
    expect(normalisePhone('+86 138-0000-0001')).toBe('13800000001')
    expect(normalisePhone('8613800000001')).toBe('13800000001')
    expect(normalisePhone('12800000001')).toBeNull()
    expect(normalisePhone('1380000')).toBeNull()
  })
  it('knows a masked phone', () => {
    expect(isMasked('138****0001')).toBe(true)
    expect(isMasked('13800000001')).toBe(false)
    expect(isMasked(null)).toBe(false)
  })
})

describe('writes', () => {
  const original: ResidentForm = { name: '王芳', phone: '13800000001', units: [unitA] }

  it('sends a new resident trimmed, units without their labels', () => {
    expect(residentBody({ name: ' 王芳 ', phone: ' 13800000001 ', units: [unitA] })).toEqual({
      name: '王芳', phone: '13800000001', units: [{ unit_id: 'unt_a', community_id: 'com_1', relation: 'owner' }],
    })
  })
  it('patches only what changed', () => {
    expect(residentPatch(original, { ...original })).toEqual({})
    expect(residentPatch(original, { ...original, name: '王芳芳' })).toEqual({ name: '王芳芳' })
    expect(residentPatch(original, { ...original, phone: '13900000002' })).toEqual({ phone: '13900000002' })
    expect(residentPatch(original, { ...original, units: [unitA, unitB] })).toEqual({
      units: [{ unit_id: 'unt_a', community_id: 'com_1', relation: 'owner' }, { unit_id: 'unt_b', community_id: 'com_2', relation: 'family' }],
    })
    expect(residentPatch(original, { ...original, units: [{ ...unitA, relation: 'occupant' }] })).toHaveProperty('units')
  })
  it('ignores the order of units, and never sends a masked phone back', () => {
    const two = { ...original, units: [unitA, unitB] }
    expect(residentPatch(two, { ...two, units: [unitB, unitA] })).toEqual({})
    expect(residentPatch({ ...original, phone: '138****0001' }, { ...original, phone: '138****0001' })).toEqual({})
    expect(residentPatch(original, { ...original, phone: '138****0001' })).toEqual({})
  })
  it('links a unit once', () => {
    expect(withUnit([unitA], { ...unitA, relation: 'family' })).toEqual([unitA])
    expect(withUnit([unitA], unitB)).toEqual([unitA, unitB])
  })
})

describe('exportFilename', () => {
  it('dates the export in Beijing time', () => {
    expect(exportFilename('业主名单', new Date('2026-11-27T16:30:00Z'))).toBe('业主名单-2026-11-28.csv')
    expect(exportFilename('residents', new Date('2026-11-27T15:59:00Z'))).toBe('residents-2026-11-27.csv')
  })
})
