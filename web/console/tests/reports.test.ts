// The reports dashboard's rules: the default range, tiles (nulls shown as "—"), chart data and options, durations and
// percentages, the tables as shown, and the CSV they export (escaping, formula neutralising, BOM).
import { describe, expect, it } from 'vitest'
import en from '@/i18n/reports.en'
import zh from '@/i18n/reports.zh-CN'
import {
  FIRST_RESPONSE_TARGET, RANKING_COLUMNS, STAFF_COLUMNS, addDays, boards, channelChart, kindChart, chartOption, chartRows, csvCell,
  csvName, defaultRange, durationParts, formatDuration, isEmpty, neutralise, percent, periodLabel, rangeDays,
  rankingLines, rateChart, resolutionChart, staffLines, tableRows, tiles, toCsv, toPercent, zhDuration,
  type CommunityRow, type Figures, type Period, type StaffRow,
} from '@/lib/reports'

const durations = (median: number | null = null) => ({ count: median === null ? 0 : 1, median_seconds: median, p90_seconds: median === null ? null : Math.round(median) })

function figuresOf(over: Partial<Figures['total']> = {}) {
  return {
    created: 0, intake_by_channel: {}, first_response: durations(),
    sla_compliance: { first_response: { met: 0, breached: 0, rate: null } },
    complaints: { created: 0, closed: 0, closure_rate: null, target: 0.98 },
    completeness: { closed: 0, complete: 0, rate: null, target: 1 },
    satisfaction: { ratings: 0, mean_rating: null, csat: null, return_visit_rate: null },
    resolution: durations(), reopen_rate: null, reopened: 0, ...over,
  }
}

function period(start: string, end: string, over: Partial<Period> = {}): Period {
  return { ...figuresOf(), start, end, backlog_at_end: null, ...over } as Period
}

function answer(periods: Period[], total: Partial<Figures['total']> = {}): Figures {
  return {
    from: periods[0]?.start ?? '2026-11-01', to: periods[periods.length - 1]?.end ?? '2026-11-30', granularity: 'day',
    community_id: null, kind: null, staff_id: null, items_read: 3, periods,
    total: { ...figuresOf(), resolution_by_kind: {}, ...total } as Figures['total'],
  }
}

const month = answer([
  period('2026-11-27', '2026-11-27', {
    created: 4, intake_by_channel: { phone: 3, h5: 1 },
    sla_compliance: { first_response: { met: 3, breached: 1, rate: 0.75 } },
    complaints: { created: 1, closed: 1, closure_rate: 1, target: 0.98 },
    completeness: { closed: 2, complete: 1, rate: 0.5, target: 1 },
    satisfaction: { ratings: 2, mean_rating: 4.5, csat: 1, return_visit_rate: 0.5 },
    backlog_at_end: 6,
  }),
  period('2026-11-28', '2026-11-28', {
    created: 2, intake_by_channel: { h5: 1, walk_in: 1 },
    sla_compliance: { first_response: { met: 2, breached: 0, rate: 1 } },
    backlog_at_end: 5,
  }),
], {
  created: 6, intake_by_channel: { phone: 3, h5: 2, walk_in: 1 },
  sla_compliance: { first_response: { met: 5, breached: 1, rate: 0.8333 } },
  complaints: { created: 1, closed: 1, closure_rate: 1, target: 0.98 },
  completeness: { closed: 2, complete: 1, rate: 0.5, target: 1 },
  satisfaction: { ratings: 2, mean_rating: 4.5, csat: 1, return_visit_rate: 0.5 },
  resolution_by_kind: { repair: durations(5400), complaint: durations(750), emergency: durations(90000) },
})

describe('the default range', () => {
  it('is the last 30 days ending today in the tenant time zone, today included', () => {
    // 2026-11-28 17:30 UTC is already 11-29 01:30 in Shanghai
    expect(defaultRange(new Date('2026-11-28T17:30:00Z'), 'Asia/Shanghai')).toEqual({ from: '2026-10-31', to: '2026-11-29' })
    expect(defaultRange(new Date('2026-11-28T17:30:00Z'), 'UTC')).toEqual({ from: '2026-10-30', to: '2026-11-28' })
    const { from, to } = defaultRange(new Date('2026-03-01T04:00:00Z'))
    expect([from, to, rangeDays(from, to)]).toEqual(['2026-01-31', '2026-03-01', 30])
    expect(defaultRange(new Date('2026-11-28T04:00:00Z'), 'Asia/Shanghai', 7)).toEqual({ from: '2026-11-22', to: '2026-11-28' })
  })

  it('counts days across months and years', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29')
    expect(rangeDays('2026-01-01', '2026-12-31')).toBe(365)
    expect(rangeDays('2026-11-28', '2026-11-28')).toBe(1)
  })

  it('labels periods by their granularity', () => {
    expect(periodLabel({ start: '2026-11-28', end: '2026-11-28' }, 'day')).toBe('11-28')
    expect(periodLabel({ start: '2026-11-23', end: '2026-11-29' }, 'week')).toBe('11-23~11-29')
    expect(periodLabel({ start: '2026-11-01', end: '2026-11-30' }, 'month')).toBe('2026-11')
  })
})

describe('numbers as a person reads them', () => {
  it('writes rates as percentages with at most one decimal and "—" for none', () => {
    expect([percent(0.8333), percent(0.95), percent(1), percent(0), percent(0.0005)]).toEqual(['83.3%', '95%', '100%', '0%', '0.1%'])
    expect([percent(null), percent(undefined), percent(Number.NaN)]).toEqual(['—', '—', '—'])
    expect([toPercent(0.8333), toPercent(null), toPercent(1)]).toEqual([83.3, null, 100])
  })

  it('writes durations in their two largest units', () => {
    expect(zhDuration(750)).toBe('12分30秒')
    expect(zhDuration(10800)).toBe('3小时')
    expect(zhDuration(11100)).toBe('3小时5分')
    expect(zhDuration(45)).toBe('45秒')
    expect(zhDuration(0)).toBe('0秒')
    expect(zhDuration(720.5)).toBe('12分1秒') // medians of an even count end in .5: rounded
    expect(zhDuration(183600)).toBe('2天3小时')
    expect(zhDuration(86400 * 2)).toBe('2天')
    expect([zhDuration(null), zhDuration(undefined)]).toEqual(['—', '—'])
    expect(durationParts(3599)).toEqual([{ unit: 'm', n: 59 }, { unit: 's', n: 59 }])
    expect(formatDuration(750, (u, n) => `${n}${u}`, ' ')).toBe('12m 30s')
  })
})

describe('the tiles', () => {
  it('show the range totals and the backlog at the end of the last period, against their targets', () => {
    const byKey = Object.fromEntries(tiles(month).map((tile) => [tile.key, tile]))
    expect(Object.keys(byKey)).toEqual(['created', 'firstResponse', 'complaintClosure', 'completeness', 'csat', 'meanRating', 'returnVisit', 'backlog'])
    expect(byKey.created).toMatchObject({ text: '6', tone: 'none', detail: { from: '2026-11-27', to: '2026-11-28' } })
    expect(byKey.firstResponse).toMatchObject({ text: '83.3%', target: FIRST_RESPONSE_TARGET, tone: 'bad', detail: { met: 5, breached: 1, target: '95%' } })
    expect(byKey.complaintClosure).toMatchObject({ text: '100%', target: 0.98, tone: 'good', detail: { created: 1, closed: 1, target: '98%' } })
    expect(byKey.completeness).toMatchObject({ text: '50%', target: 1, tone: 'bad', detail: { closed: 2, complete: 1, target: '100%' } })
    expect(byKey.csat.text).toBe('100%')
    expect(byKey.meanRating.text).toBe('4.50')
    expect(byKey.returnVisit.text).toBe('50%')
    expect(byKey.backlog).toMatchObject({ text: '5', detail: { date: '2026-11-28' } })
  })

  it('show "—" for every rate with nothing behind it, and no verdict', () => {
    const empty = answer([period('2026-11-28', '2026-11-28')])
    const shown = tiles(empty)
    expect(shown.map((tile) => tile.text)).toEqual(['0', '—', '—', '—', '—', '—', '—', '—'])
    expect(shown.every((tile) => tile.tone === 'none')).toBe(true)
    expect(tiles(answer([])).find((tile) => tile.key === 'backlog')!.text).toBe('—')
  })
})

describe('the charts', () => {
  const names = { period: '周期', series: '达标率', target: '目标' }

  it('draw a rate per period on a 0–100 axis, gaps where there is no rate, and the target as a dashed line', () => {
    const data = rateChart(month, 'day', (p) => p.complaints.closure_rate, names, 0.98)
    expect(data).toMatchObject({ categories: ['11-27', '11-28'], series: [{ name: '达标率', values: [100, null] }], unit: 'percent', target: { name: '目标', value: 98 } })
    const option = chartOption(rateChart(month, 'day', (p) => p.sla_compliance.first_response?.rate, names, FIRST_RESPONSE_TARGET), { type: 'line' }) as any
    expect(option.series[0]).toMatchObject({ type: 'line', data: [75, 100], connectNulls: false })
    expect(option.series[0].markLine).toMatchObject({ lineStyle: { type: 'dashed' }, data: [{ yAxis: 95 }] })
    expect(option.yAxis).toMatchObject({ min: 0, max: 100 })
    expect(option.tooltip.valueFormatter(75)).toBe('75%')
    expect(option.tooltip.valueFormatter(null)).toBe('—')
    expect(rateChart(month, 'day', (p) => p.satisfaction.csat, { period: '周期', series: 'CSAT' }).target).toBeUndefined()
  })

  it('stack the intake by channel, the busiest channel first', () => {
    const data = channelChart(month, 'day', { period: '周期' }, (c) => ({ phone: '电话', h5: '业主H5', walk_in: '到访' })[c] ?? c)
    expect(data.series).toEqual([
      { name: '电话', values: [3, 0] }, { name: '业主H5', values: [1, 1] }, { name: '到访', values: [0, 1] },
    ])
    const option = chartOption(data, { type: 'bar', stack: true }) as any
    expect(option.series.every((s: any) => s.stack === 'total' && s.markLine === undefined)).toBe(true)
    expect(option.legend.show).not.toBe(false)
  })

  it('stack the intake by kind in the tenant order of kinds, kinds it does not know last', () => {
    const byKind = answer([
      period('2026-11-27', '2026-11-27', { intake_by_kind: { complaint: 1, repair: 2, pest: 4 } }),
      period('2026-11-28', '2026-11-28', { intake_by_kind: { repair: 1, emergency: 0 } }),
    ])
    const data = kindChart(byKind, 'day', { period: '周期' }, (k) => ({ repair: '报修', complaint: '投诉' })[k] ?? k, ['repair', 'complaint', 'emergency'])
    expect(data.series).toEqual([
      { name: '报修', values: [2, 1] }, { name: '投诉', values: [1, 0] }, { name: 'pest', values: [4, 0] },
    ])
    expect(chartRows(data, '小时').header).toEqual(['周期', '报修', '投诉', 'pest'])
  })

  it('show resolution by kind in hours, in the tenant order of kinds', () => {
    const data = resolutionChart(month, { kind: '类型', median: '中位数', p90: 'P90' }, (k) => ({ repair: '报修', complaint: '投诉' })[k] ?? k, ['repair', 'complaint'])
    expect(data.categories).toEqual(['报修', '投诉', 'emergency'])
    expect(data.series[0]).toEqual({ name: '中位数', values: [1.5, 0.2, 25] })
    expect(chartRows(data, '小时').header).toEqual(['类型', '中位数（小时）', 'P90（小时）'])
  })

  it('tell an empty chart from one of zero rates', () => {
    const nothing = answer([period('2026-11-28', '2026-11-28')])
    expect(isEmpty(rateChart(nothing, 'day', (p) => p.complaints.closure_rate, names))).toBe(true)
    expect(isEmpty(channelChart(nothing, 'day', { period: '周期' }, String))).toBe(true)
    const zero = answer([period('2026-11-28', '2026-11-28', { complaints: { created: 2, closed: 0, closure_rate: 0, target: 0.98 } })])
    expect(isEmpty(rateChart(zero, 'day', (p) => p.complaints.closure_rate, names))).toBe(false)
  })

  it('export exactly what they show: the category, each series, the target', () => {
    const data = rateChart(month, 'day', (p) => p.complaints.closure_rate, { period: '周期', series: '闭环率', target: '目标' }, 0.98)
    expect(chartRows(data)).toEqual({ header: ['周期', '闭环率', '目标'], rows: [['11-27', '100%', '98%'], ['11-28', null, '98%']] })
  })
})

describe('the tables', () => {
  const staff: StaffRow[] = [
    { staff_id: 'u1', assigned: 3, resolved: 2, first_responses: 3, first_response_median_seconds: 750, resolution_median_seconds: 10800, ratings: 2, csat: 0.5, reopened: 0, breaches: 1, open_now: 1 },
    { staff_id: 'u2', assigned: 9, resolved: 9, first_responses: 0, first_response_median_seconds: null, resolution_median_seconds: null, ratings: 0, csat: null, reopened: 1, breaches: 0, open_now: 0 },
  ]

  it('show staff by name, most assigned first, durations and CSAT written out', () => {
    const lines = staffLines(staff, (id) => ({ u1: '李娜', u2: '张强' })[id] ?? id, zhDuration)
    expect(lines.map((l) => l.name)).toEqual(['张强', '李娜'])
    expect(lines[1]).toMatchObject({ firstResponseMedian: '12分30秒', resolutionMedian: '3小时', csat: '50%', openNow: 1 })
    expect(tableRows(lines, STAFF_COLUMNS)[0]).toEqual(['张强', 9, 9, 0, null, null, 0, null, 1, 0, 0])
  })

  it('mark the best communities 红榜 and the worst 黑榜, never a community without a score', () => {
    const row = (id: string, rank: number, score: number | null): CommunityRow => ({
      community_id: id, name: id, rank, score, units: 6, created: 3, first_response_compliance: score === null ? null : 0.9,
      complaint_closure_rate: null, csat: null, complaints: 1, complaints_per_100_units: 16.67,
    })
    expect(boards([row('a', 1, 90), row('b', 2, 40)])).toEqual({ a: 'red', b: 'black' })
    expect(boards([row('a', 1, 90)])).toEqual({ a: null })
    expect(boards([row('a', 1, 90), row('b', 2, 60), row('c', 3, 40), row('d', 4, null)])).toEqual({ a: 'red', b: null, c: 'black', d: null })
    const many = Array.from({ length: 9 }, (_, i) => row(`c${i}`, i + 1, 90 - i))
    expect(Object.values(boards(many))).toEqual(['red', 'red', 'red', null, null, null, 'black', 'black', 'black'])
    const lines = rankingLines([row('翠苑', 1, 78.5), row('荷塘月色', 2, null)])
    expect(lines[0]).toMatchObject({ board: null, score: '78.5', firstResponse: '90%', complaintClosure: '—', complaintsPer100: 16.67 })
    expect(tableRows(lines, RANKING_COLUMNS)[1]).toEqual([2, '荷塘月色', null, null, null, null, 16.67, 1, 3, 6])
  })
})

describe('the CSV', () => {
  it('quotes commas, quotes and line breaks, doubling the quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('说"好"')).toBe('"说""好"""')
    expect(csvCell('第一行\n第二行')).toBe('"第一行\n第二行"')
    expect(csvCell('x\r\ny')).toBe('"x\r\ny"')
    expect([csvCell('翠苑'), csvCell(12), csvCell(null), csvCell(undefined), csvCell(0)]).toEqual(['翠苑', '12', '', '', '0'])
  })

  it('neutralises formulas as the backend exports do, keeping plain numbers', () => {
    expect(neutralise('=1+1')).toBe("'=1+1")
    expect(neutralise('+86 138')).toBe("'+86 138")
    expect(neutralise('-x')).toBe("'-x")
    expect(neutralise('@SUM(A1)')).toBe("'@SUM(A1)")
    expect(neutralise('\t=1')).toBe("'\t=1")
    expect([neutralise('-1'), neutralise('+2.5'), neutralise('1栋'), neutralise("'=already")]).toEqual(['-1', '+2.5', '1栋', "'=already"])
    expect(csvCell('=HYPERLINK("http://x","点我")')).toBe('"\'=HYPERLINK(""http://x"",""点我"")"')
    expect(csvCell(-3)).toBe('-3')
  })

  it('starts with a byte order mark and ends lines with CRLF', () => {
    const text = toCsv(['员工', '满意度'], [['李娜', '50%'], ['=evil', null]])
    expect(text.charCodeAt(0)).toBe(0xfeff)
    expect(text.slice(1)).toBe('员工,满意度\r\n李娜,50%\r\n\'=evil,\r\n')
    expect(new TextEncoder().encode(text).slice(0, 3)).toEqual(new Uint8Array([0xef, 0xbb, 0xbf]))
  })

  it('names files by title and range, without characters a file system refuses', () => {
    expect(csvName('员工工作量与服务质量', '2026-10-30', '2026-11-28')).toBe('员工工作量与服务质量_2026-10-30_2026-11-28.csv')
    expect(csvName('a/b: c', '2026-11-01', '2026-11-02')).toBe('a_b_c_2026-11-01_2026-11-02.csv')
  })
})

describe('the reports strings', () => {
  type Tree = { [key: string]: string | Tree }
  const keys = (tree: Tree, prefix = ''): string[] =>
    Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)))
  const at = (tree: Tree, key: string) => key.split('.').reduce<unknown>((n, p) => (n as Tree)[p], tree) as string

  it('has every key in both languages with the same {params}, and nothing vue-i18n reads as syntax', () => {
    expect(keys(en as Tree).sort()).toEqual(keys(zh as Tree).sort())
    const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    for (const key of keys(zh as Tree)) {
      expect(params(at(en as Tree, key)), key).toEqual(params(at(zh as Tree, key)))
      for (const text of [at(zh as Tree, key), at(en as Tree, key)]) {
        expect(text, key).not.toBe('')
        expect(text.replace(/\{\w+\}/g, ''), key).not.toMatch(/[{}@|$]/)
      }
    }
  })

  it('names every tile, chart, column and duration unit the screen builds a key from', () => {
    const wanted = [
      ...tiles(month).flatMap((tile) => [`tiles.${tile.key}`, `details.${tile.key}`]),
      ...['firstResponse', 'complaintClosure', 'completeness', 'csat', 'channels', 'resolutionByKind'].flatMap((c) => [`charts.${c}`, `hints.${c}`]),
      ...STAFF_COLUMNS.map((c) => `staff.columns.${c}`), ...RANKING_COLUMNS.map((c) => `ranking.columns.${c}`),
      ...['d', 'h', 'm', 's'].map((u) => `duration.${u}`), ...['day', 'week', 'month'].map((g) => `filters.${g}`),
      'tone.good', 'tone.bad', 'ranking.red', 'ranking.black',
    ]
    expect(wanted.filter((k) => typeof at(zh as Tree, k) !== 'string' || typeof at(en as Tree, k) !== 'string')).toEqual([])
  })
})
