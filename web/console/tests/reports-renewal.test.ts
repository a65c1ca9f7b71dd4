// The dashboard's additions: the 今日 row (counts of a page, "100+"), the backlog's overdue figure, the month range
// of 满意度与续费, its scatter and trend line, the risk list, the fee form (percent ↔ rate, 0–100, blank = not
// given, a row sent only with a rate) and its import template, and the names of the import's problems.
import { describe, expect, it } from 'vitest'
import en from '@/i18n/reports.en'
import zh from '@/i18n/reports.zh-CN'
import {
  FEE_HEADER, addMonths, axisCeil, axisFloor, correlationText, escapeHtml, exportFinished, feeFileType, feeFormRows, feeItems,
  feeTemplateCsv, importProblem, lastMonths, monthSpan, pageCount, percentToRate, quarterLabel, rateToPercentText,
  renewalTable, riskLines, scatterOption, scatterPoints, tiles, todayTiles, trendLine, type Figures, type RenewalRow,
} from '@/lib/reports'

type Tree = { [key: string]: string | Tree }
const at = (tree: Tree, key: string) => key.split('.').reduce<unknown>((n, p) => (n as Tree)[p], tree)

function figures(over: { created?: number; backlog?: number | null; overdue?: number | null } = {}): Figures {
  const base = {
    created: over.created ?? 0, intake_by_channel: {}, first_response: { count: 0, median_seconds: null, p90_seconds: null },
    sla_compliance: { first_response: { met: 0, breached: 0, rate: null } },
    complaints: { created: 0, closed: 0, closure_rate: null, target: 0.98 },
    completeness: { closed: 0, complete: 0, rate: null, target: 1 },
    satisfaction: { ratings: 0, mean_rating: null, csat: null, return_visit_rate: null },
    resolution: { count: 0, median_seconds: null, p90_seconds: null }, reopen_rate: null, reopened: 0,
  }
  return {
    from: '2026-11-28', to: '2026-11-28', granularity: 'day', community_id: null, kind: null, staff_id: null, items_read: 2,
    periods: [{ ...base, start: '2026-11-28', end: '2026-11-28', backlog_at_end: over.backlog ?? null, overdue_at_end: over.overdue ?? null }],
    total: { ...base, resolution_by_kind: {} },
  } as Figures
}

const page = (n: number, more = false) => ({ items: Array.from({ length: n }, (_, i) => ({ id: `t${i}` })), next_cursor: more ? 'next' : null })

describe('the today row', () => {
  it('counts a page of the queue, "100+" when there are more pages, "—" when it was not read', () => {
    expect(pageCount(page(0))).toBe('0')
    expect(pageCount(page(37))).toBe('37')
    expect(pageCount(page(100, true))).toBe('100+')
    expect(pageCount(page(100))).toBe('100')
    expect([pageCount(null), pageCount(undefined)]).toEqual(['—', '—'])
  })

  it('shows open now and new today from the day\'s figures, flags tickets about to breach and breached', () => {
    const shown = todayTiles(figures({ created: 5, backlog: 12 }), page(2), page(100, true))
    expect(shown).toEqual([
      { key: 'open', text: '12', tone: 'none' }, { key: 'created', text: '5', tone: 'none' },
      { key: 'atRisk', text: '2', tone: 'warn' }, { key: 'breached', text: '100+', tone: 'bad' },
    ])
    expect(todayTiles(figures({ created: 0, backlog: 0 }), page(0), page(0)).map((t) => t.tone)).toEqual(['none', 'none', 'none', 'none'])
    expect(todayTiles(null, null, null).map((t) => t.text)).toEqual(['—', '—', '—', '—'])
  })

  it('puts the tickets overdue at the end of the range beside the backlog', () => {
    const backlog = tiles(figures({ backlog: 7, overdue: 3 })).find((t) => t.key === 'backlog')!
    expect(backlog).toMatchObject({ text: '7', overdue: 3 })
    expect(tiles(figures()).find((t) => t.key === 'backlog')!.overdue).toBeNull()
  })
})

describe('the month range', () => {
  it('is the last six months including this one, in the tenant time zone', () => {
    // 2026-11-30 17:00 UTC is already December 1st in Shanghai
    expect(lastMonths(new Date('2026-11-30T17:00:00Z'), 'Asia/Shanghai')).toEqual({ from: '2026-07', to: '2026-12' })
    expect(lastMonths(new Date('2026-11-30T17:00:00Z'), 'UTC')).toEqual({ from: '2026-06', to: '2026-11' })
    expect(lastMonths(new Date('2026-03-10T04:00:00Z'), 'Asia/Shanghai', 6)).toEqual({ from: '2025-10', to: '2026-03' })
  })

  it('counts months across years, at most twelve being asked for', () => {
    expect([addMonths('2026-01', -1), addMonths('2025-12', 1), addMonths('2026-05', -17)]).toEqual(['2025-12', '2026-01', '2024-12'])
    expect([monthSpan('2026-01', '2026-12'), monthSpan('2025-12', '2026-12'), monthSpan('2026-03', '2026-02')]).toEqual([12, 13, 0])
  })
})

const rows: RenewalRow[] = [
  { community_id: 'c1', name: '翠苑', month: '2026-10', ratings: 10, csat: 0.9, mean_rating: 4.5, collection_rate: 0.95, renewal_rate: 0.9 },
  { community_id: 'c2', name: '荷塘<b>月色</b>', month: '2026-10', ratings: 8, csat: 0.625, mean_rating: 3.75, collection_rate: 0.8, renewal_rate: null },
  { community_id: 'c1', name: '翠苑', month: '2026-11', ratings: 0, csat: null, mean_rating: null, collection_rate: 0.9, renewal_rate: 0.85 },
  { community_id: 'c2', name: '荷塘<b>月色</b>', month: '2026-11', ratings: 4, csat: 0.75, mean_rating: 4, collection_rate: null, renewal_rate: null },
]

describe('the satisfaction ↔ renewal scatter', () => {
  it('has one point per community-month with both a CSAT and the rate, on 0–100 axes', () => {
    expect(scatterPoints(rows, 'collection_rate')).toEqual([
      { value: [90, 95], name: '翠苑', month: '2026-10', ratings: 10 },
      { value: [62.5, 80], name: '荷塘<b>月色</b>', month: '2026-10', ratings: 8 },
    ])
    expect(scatterPoints(rows, 'renewal_rate').map((p) => p.value)).toEqual([[90, 90]])
    expect(scatterPoints([], 'collection_rate')).toEqual([])
  })

  it('draws the API\'s trend line across the points\' CSAT range', () => {
    const points = scatterPoints(rows, 'collection_rate')
    // rate = 0.5 × CSAT + 0.5: at CSAT 62.5% → 81.3%, at 90% → 95%
    expect(trendLine({ pairs: 2, r: null, slope: 0.5, intercept: 0.5 }, points)).toEqual([[62.5, 81.3], [90, 95]])
    expect(trendLine({ pairs: 2, r: null, slope: null, intercept: null }, points)).toBeNull()
    expect(trendLine({ pairs: 1, r: null, slope: 0.5, intercept: 0.5 }, points.slice(0, 1))).toBeNull() // one CSAT: no line
    expect(trendLine(null, points)).toBeNull()
  })

  it('gives ECharts a scatter, the dashed trend line, axes from just below the data to 100%, and safe tooltips', () => {
    const points = scatterPoints(rows, 'collection_rate')
    const option = scatterOption(points, trendLine({ pairs: 2, r: null, slope: 0.5, intercept: 0.5 }, points),
      { x: '满意度', y: '收缴率', trend: '趋势线' }) as any
    expect(option.series.map((s: any) => s.type)).toEqual(['scatter', 'line'])
    expect(option.series[0].data).toBe(points)
    expect(option.series[1]).toMatchObject({ data: [[62.5, 81.3], [90, 95]], lineStyle: { type: 'dashed' } })
    expect(option.xAxis).toMatchObject({ name: '满意度', min: 50, max: 100 })
    expect(option.yAxis).toMatchObject({ name: '收缴率', min: 70, max: 100 })
    const tip = option.tooltip.formatter({ seriesType: 'scatter', data: points[1] })
    expect(tip).toBe('荷塘&lt;b&gt;月色&lt;/b&gt; · 2026-10<br/>满意度 62.5%<br/>收缴率 80%')
    expect(option.tooltip.formatter({ seriesType: 'line', data: [62.5, 81.3] })).toBe('趋势线')
    expect((scatterOption(points, null, { x: 'x', y: 'y', trend: 't' }) as any).series).toHaveLength(1)
  })

  it('fits each axis to the points in tens, a margin either side, within 0–100', () => {
    expect([axisFloor([62.5, 90]), axisFloor([95, 99]), axisFloor([3]), axisFloor([]), axisFloor([15])]).toEqual([50, 90, 0, 0, 10])
    expect([axisCeil([72, 76]), axisCeil([62.5, 90]), axisCeil([98]), axisCeil([]), axisCeil([4])]).toEqual([90, 100, 100, 100, 10])
    expect(escapeHtml(`<img src=x onerror="a('&')">`)).toBe('&lt;img src=x onerror=&quot;a(&#39;&amp;&#39;)&quot;&gt;')
  })

  it('shows r with two decimals, or nothing when the API has too few pairs', () => {
    expect(correlationText({ pairs: 14, r: 0.6234, slope: 1, intercept: 0 })).toBe('0.62')
    expect(correlationText({ pairs: 4, r: -1, slope: -1, intercept: 1 })).toBe('-1.00')
    expect(correlationText({ pairs: 2, r: null, slope: 1, intercept: 0 })).toBeNull()
    expect(correlationText(undefined)).toBeNull()
  })

  it('exports every row of the report, rates as percentages, blanks for none', () => {
    expect(renewalTable(rows)).toEqual([
      ['翠苑', '2026-10', 10, '90%', '4.50', '95%', '90%'],
      ['荷塘<b>月色</b>', '2026-10', 8, '62.5%', '3.75', '80%', null],
      ['翠苑', '2026-11', 0, null, null, '90%', '85%'],
      ['荷塘<b>月色</b>', '2026-11', 4, '75%', '4.00', null, null],
    ])
  })
})

describe('the renewal risks', () => {
  it('list the steepest fall first, CSAT before and after and the change as percentages', () => {
    const lines = riskLines([
      { community_id: 'a', name: '翠苑', previous_csat: 0.9, last_csat: 0.8, change: -0.1111 },
      { community_id: 'b', name: '荷塘月色', previous_csat: 0.8, last_csat: 0.4, change: -0.5 },
      { community_id: 'c', name: '锦绣', previous_csat: 0.5, last_csat: null, change: -0.2 },
    ])
    expect(lines.map((l) => [l.name, l.previous, l.last, l.change])).toEqual([
      ['荷塘月色', '80%', '40%', '-50%'], ['锦绣', '50%', '—', '-20%'], ['翠苑', '90%', '80%', '-11.1%'],
    ])
    expect(riskLines([])).toEqual([])
  })

  it('name their quarters by first and last month', () => {
    expect(quarterLabel(['2026-06', '2026-07', '2026-08'])).toBe('2026-06~08')
    expect(quarterLabel(['2025-11', '2025-12', '2026-01'])).toBe('2025-11~2026-01')
    expect([quarterLabel(['2026-06']), quarterLabel([])]).toEqual(['2026-06', '—'])
  })
})

describe('the fee form', () => {
  it('shows stored rates as percentages and reads percentages back as rates', () => {
    expect([rateToPercentText(0.93), rateToPercentText(0.815), rateToPercentText(0.9325), rateToPercentText(1), rateToPercentText(0)])
      .toEqual(['93', '81.5', '93.25', '100', '0'])
    expect([rateToPercentText(null), rateToPercentText(undefined)]).toEqual(['', ''])
    expect([percentToRate('93'), percentToRate(' 81.5 '), percentToRate('93.25%'), percentToRate('100'), percentToRate('0'), percentToRate('88％')])
      .toEqual([0.93, 0.815, 0.9325, 1, 0, 0.88])
    for (const rate of [0.93, 0.815, 0.9325, 0.07, 1]) expect(percentToRate(rateToPercentText(rate))).toBe(rate)
  })

  it('takes blank as not given and refuses anything but a number from 0 to 100', () => {
    expect([percentToRate(''), percentToRate('  '), percentToRate(null), percentToRate(undefined)]).toEqual([null, null, null, null])
    for (const wrong of ['100.5', '101', '-1', 'abc', '9 3', '1e2', '0.9.3', '.5', '%']) expect(percentToRate(wrong), wrong).toBeUndefined()
  })

  const form = (collection: string, renewal: string, id = 'c1') => ({ community_id: id, name: id, collection, renewal })

  it('sends one item per community with a rate, both blank not sent', () => {
    const out = feeItems([form('93', ''), form('', ''), form('81.5', '75', 'c3'), form('', '60', 'c4')], '2026-11')
    expect(out).toEqual({ invalid: [], items: [
      { community_id: 'c1', month: '2026-11', collection_rate: 0.93, renewal_rate: null },
      { community_id: 'c3', month: '2026-11', collection_rate: 0.815, renewal_rate: 0.75 },
      { community_id: 'c4', month: '2026-11', collection_rate: null, renewal_rate: 0.6 },
    ] })
    expect(feeItems([form('', '')], '2026-11')).toEqual({ items: [], invalid: [] }) // nothing to send
  })

  it('sends nothing while a cell is wrong, and names the cells', () => {
    expect(feeItems([form('93', ''), form('120', 'x', 'c2')], '2026-11')).toEqual({ items: [], invalid: ['c2.collection', 'c2.renewal'] })
  })

  it('lists every community, prefilled with the month\'s recorded rates', () => {
    const stored = [
      { community_id: 'c1', month: '2026-11', collection_rate: 0.93, renewal_rate: null, updated_at: '', updated_by: '' },
      { community_id: 'c2', month: '2026-10', collection_rate: 0.5, renewal_rate: 0.5, updated_at: '', updated_by: '' },
    ]
    expect(feeFormRows([{ id: 'c1', name: '翠苑' }, { id: 'c2', name: '荷塘月色' }], stored, '2026-11')).toEqual([
      { community_id: 'c1', name: '翠苑', collection: '93', renewal: '' },
      { community_id: 'c2', name: '荷塘月色', collection: '', renewal: '' },
    ])
  })

  it('offers a template the import reads: its header, the communities and the month, BOM and CRLF', () => {
    const text = feeTemplateCsv(['翠苑', '荷塘,月色', '=evil'], '2026-11')
    expect(text.charCodeAt(0)).toBe(0xfeff)
    expect(text.slice(1)).toBe('小区,月份,收缴率,续费率\r\n翠苑,2026-11,,\r\n"荷塘,月色",2026-11,,\r\n\'=evil,2026-11,,\r\n')
    expect(FEE_HEADER).toEqual(['小区', '月份', '收缴率', '续费率'])
  })

  it('sends a CSV or an XLSX with its type, nothing else', () => {
    expect(feeFileType('收缴率.CSV')).toBe('text/csv')
    expect(feeFileType('rates.xlsx')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    expect([feeFileType('rates.xls'), feeFileType('rates'), feeFileType('a.csv.txt')]).toEqual([null, null, null])
  })

  it('names the import\'s problems in the reader\'s words, keeping the API\'s message for others', () => {
    expect(importProblem({ line: 4, field: 'community', message: 'No community 锦绣.' })).toEqual({ key: 'unknownCommunity', params: { name: '锦绣' } })
    expect(importProblem({ line: 3, field: 'community', message: 'Which community?' })).toEqual({ key: 'community', params: {} })
    expect(importProblem({ line: 3, field: 'month', message: 'A month as YYYY-MM.' })?.key).toBe('month')
    expect(importProblem({ line: 3, field: 'renewal_rate', message: 'A rate from 0 to 1, or a percentage.' })?.key).toBe('rate')
    expect(importProblem({ line: 3, field: 'collection_rate', message: 'Give 收缴率 or 续费率.' })?.key).toBe('noRate')
    expect(importProblem({ line: 1, field: 'header', message: '…' })?.key).toBe('header')
    expect(importProblem({ line: 1001, field: 'file', message: 'At most 1000 rows a file.' })).toBeNull()
    for (const key of ['unknownCommunity', 'community', 'month', 'rate', 'noRate', 'header']) {
      expect(typeof at(zh as Tree, `fees.problems.${key}`), key).toBe('string')
      expect(typeof at(en as Tree, `fees.problems.${key}`), key).toBe('string')
    }
  })
})

describe('the ticket export', () => {
  it('waits until the job is done or failed', () => {
    expect(['queued', 'running', 'done', 'failed'].map((status) => exportFinished({ status: status as 'done' }))).toEqual([false, false, true, true])
    expect(exportFinished(null)).toBe(false)
  })
})

describe('the new strings', () => {
  it('name every today tile, rate and column the screens build a key from', () => {
    const wanted = [
      ...['open', 'created', 'atRisk', 'breached'].flatMap((k) => [`today.${k}`, `today.hints.${k}`]),
      'renewal.collection_rate', 'renewal.renewal_rate', 'overdue.tag',
      ...['name', 'month', 'ratings', 'csat', 'meanRating', 'collection', 'renewal', 'previous', 'last', 'change'].map((c) => `renewal.columns.${c}`),
      ...['community', 'month', 'collection_rate', 'renewal_rate', 'header', 'file'].map((f) => `fees.fields.${f}`),
    ]
    expect(wanted.filter((k) => typeof at(zh as Tree, k) !== 'string' || typeof at(en as Tree, k) !== 'string')).toEqual([])
  })
})
