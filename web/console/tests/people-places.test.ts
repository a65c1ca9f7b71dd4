import { describe, expect, it } from 'vitest'
import { allPages, byEntrance, naturalCompare, sortedBy, unitLabel, unitQuery, unitShortLabel, withSuffix } from '@/lib/people/places'

describe('unit labels', () => {
  it('composes a label as the API does: building, entrance, number', () => {
    expect(unitLabel('3栋', '2单元', '1201')).toBe('3栋2单元1201')
    expect(unitLabel('3栋', null, '1201')).toBe('3栋1201')
    expect(unitLabel(' A座 ', '', ' 0301 ')).toBe('A座0301')
    expect(unitShortLabel({ entrance: '2单元', number: '1201' })).toBe('2单元1201')
    expect(unitShortLabel({ entrance: null, number: '101' })).toBe('101')
  })
  it('adds 栋/单元 after a bare number only', () => {
    expect(withSuffix('3', '栋')).toBe('3栋')
    expect(withSuffix(' 12 ', '单元')).toBe('12单元')
    expect(withSuffix('3号楼', '栋')).toBe('3号楼')
    expect(withSuffix('A座', '栋')).toBe('A座')
    expect(withSuffix('', '单元')).toBe('')
  })
})

describe('ordering', () => {
  it('sorts naturally: 2栋 before 10栋, 201 before 1001', () => {
    expect(['10栋', '2栋', '1栋'].sort(naturalCompare)).toEqual(['1栋', '2栋', '10栋'])
    expect(sortedBy([{ n: '1001' }, { n: '201' }], (x) => x.n).map((x) => x.n)).toEqual(['201', '1001'])
  })
  it('groups a building’s units by entrance, those without one together', () => {
    const groups = byEntrance([
      { entrance: '2单元', number: '1001' }, { entrance: '1单元', number: '201' }, { entrance: '2单元', number: '201' },
      { entrance: null, number: '101' },
    ])
    expect(groups.map(([e, list]) => [e, list.map((u) => u.number)])).toEqual([
      ['', ['101']], ['1单元', ['201']], ['2单元', ['201', '1001']],
    ])
  })
})

describe('unitQuery', () => {
  it('puts a Chinese community name before the label, so the search keeps that community', () => {
    expect(unitQuery('翠苑小区', '1栋2单元202')).toBe('翠苑小区1栋2单元202')
  })
  it('uses the label alone when the name has digits or Latin letters (the search could not split them)', () => {
    expect(unitQuery('CBD One', '1栋202')).toBe('1栋202')
    expect(unitQuery('翠苑2期', '1栋202')).toBe('1栋202')
    expect(unitQuery(null, '1栋202')).toBe('1栋202')
  })
})

describe('allPages', () => {
  it('follows next_cursor until there is none', async () => {
    const pages: Record<string, { items: number[]; next_cursor: string | null }> = {
      start: { items: [1, 2], next_cursor: 'b' }, b: { items: [3], next_cursor: 'c' }, c: { items: [4], next_cursor: null },
    }
    const asked: (string | undefined)[] = []
    const all = await allPages(async (cursor) => {
      asked.push(cursor)
      return pages[cursor ?? 'start']
    })
    expect(all).toEqual([1, 2, 3, 4])
    expect(asked).toEqual([undefined, 'b', 'c'])
  })
  it('stops after maxPages', async () => {
    let calls = 0
    await allPages(async () => ({ items: [calls++], next_cursor: 'again' }), 3)
    expect(calls).toBe(3)
  })
})
