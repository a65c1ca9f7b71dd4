// The reports dashboard's rules (pure; tests/reports.test.ts): the default range, the tiles and chart data made from
// the API's answers, durations and percentages as a person reads them, and the CSV every chart and table exports.
// Each chart is drawn from a ChartData and exported from the same ChartData, so an export holds exactly what the
// chart shows. Wording comes from the caller (already translated): nothing here knows the locale.
import type { EChartsCoreOption } from 'echarts/core'
import type { components } from '@/api'

export type Figures = components['schemas']['FiguresOut']
export type Period = components['schemas']['PeriodFigures']
export type StaffRow = components['schemas']['StaffRow']
export type CommunityRow = components['schemas']['CommunityRow']
export type Renewal = components['schemas']['SatisfactionRenewalOut']
export type RenewalRow = components['schemas']['SatisfactionRow']
export type RenewalRisk = components['schemas']['RenewalRisk']
export type Correlation = components['schemas']['Correlation']
export type FeeRate = components['schemas']['FeeRateOut']
export type FeeRateIn = components['schemas']['FeeRateIn']
export type FeeImportError = components['schemas']['FeeImportError']
export type ExportJob = components['schemas']['ExportOut']
export type Granularity = 'day' | 'week' | 'month'
export type Cell = string | number | null | undefined

/** The dashboard's target line for 15-minute first-response compliance (kpis.FIRST_RESPONSE_TARGET). */
export const FIRST_RESPONSE_TARGET = 0.95
/** The longest range the API answers (reports.service.MAX_DAYS). */
export const MAX_DAYS = 366
export const NONE = '—'

// --- dates ------------------------------------------------------------------------------------------------------
/** `YYYY-MM-DD` of `now` in a time zone (the tenant's calendar day). */
const dayFormats = new Map<string, Intl.DateTimeFormat>() // one per zone: making one costs a millisecond or more

export function dayIn(now: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    dayFormats.set(timeZone, format)
  }
  const parts = format.formatToParts(now)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')}`
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number)
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10)
}

/** Days in [from, to], both included. */
export function rangeDays(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86400000) + 1
}

/** The last `days` days ending today (today included), in the tenant's time zone. */
export function defaultRange(now: Date, timeZone = 'Asia/Shanghai', days = 30): { from: string; to: string } {
  const to = dayIn(now, timeZone)
  return { from: addDays(to, -(days - 1)), to }
}

/** A period on a chart's axis: 11-28 for a day, 11-23~11-29 for a week, 2026-11 for a month. */
export function periodLabel(period: { start: string; end: string }, granularity: Granularity): string {
  if (granularity === 'month') return period.start.slice(0, 7)
  if (granularity === 'week') return `${period.start.slice(5)}~${period.end.slice(5)}`
  return period.start.slice(5)
}

// --- numbers ----------------------------------------------------------------------------------------------------
/** A 0–1 rate as a percentage with at most one decimal ("93.3%", "95%"), "—" when there is none. */
export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return NONE
  return `${toPercent(rate)}%`
}

/** A 0–1 rate on a 0–100 axis (one decimal), null kept as a gap. */
export function toPercent(rate: number | null | undefined): number | null {
  return rate === null || rate === undefined ? null : Math.round(rate * 1000) / 10
}

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? NONE : String(n)
}

export function rating(mean: number | null | undefined): string {
  return mean === null || mean === undefined ? NONE : mean.toFixed(2)
}

export type DurationUnit = 'd' | 'h' | 'm' | 's'

/** A duration in its two largest units, the smaller left out when zero: 45秒, 12分30秒, 3小时, 3小时5分, 2天3小时. */
export function durationParts(seconds: number): { unit: DurationUnit; n: number }[] {
  const total = Math.max(0, Math.round(seconds))
  const pair = (big: DurationUnit, size: number, small: DurationUnit, smallSize: number) => {
    const n = Math.floor(total / size)
    const rest = Math.floor((total % size) / smallSize)
    return rest ? [{ unit: big, n }, { unit: small, n: rest }] : [{ unit: big, n }]
  }
  if (total < 60) return [{ unit: 's', n: total }]
  if (total < 3600) return pair('m', 60, 's', 1)
  if (total < 86400) return pair('h', 3600, 'm', 60)
  return pair('d', 86400, 'h', 3600)
}

/** `durationParts` written out by the caller's words (`word('m', 12)` → "12分"), "—" for no duration. */
export function formatDuration(seconds: number | null | undefined, word: (unit: DurationUnit, n: number) => string,
  joiner = ''): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return NONE
  return durationParts(seconds).map((p) => word(p.unit, p.n)).join(joiner)
}

const ZH_UNITS: Record<DurationUnit, string> = { d: '天', h: '小时', m: '分', s: '秒' }
/** The zh-CN form, for tests and logs: 12分30秒. */
export const zhDuration = (seconds: number | null | undefined) => formatDuration(seconds, (u, n) => `${n}${ZH_UNITS[u]}`)

// --- tiles ------------------------------------------------------------------------------------------------------
export type TileKey = 'created' | 'firstResponse' | 'complaintClosure' | 'completeness' | 'csat' | 'meanRating'
  | 'returnVisit' | 'backlog'
export type Tone = 'good' | 'bad' | 'none'

export interface Tile {
  key: TileKey
  value: number | null
  text: string
  target: number | null
  tone: Tone
  /** The parameters of the tile's second line (reports.details.<key>). */
  detail: Record<string, string | number>
  /** The backlog's tickets past their resolution deadline (期末超期), beside its figure; null when unknown. */
  overdue?: number | null
}

function tone(value: number | null, target: number | null): Tone {
  if (value === null || target === null) return 'none'
  return value >= target ? 'good' : 'bad'
}

/** The eight tiles of a range: its totals, and the backlog at the end of its last period. */
export function tiles(figures: Figures): Tile[] {
  const t = figures.total
  const fr = t.sla_compliance.first_response ?? { met: 0, breached: 0, rate: null }
  const s = t.satisfaction
  const last = figures.periods[figures.periods.length - 1]
  const backlog = last?.backlog_at_end ?? null
  const rate = (key: TileKey, value: number | null, target: number | null, detail: Tile['detail']): Tile =>
    ({ key, value, text: percent(value), target, tone: tone(value, target), detail })
  return [
    { key: 'created', value: t.created, text: count(t.created), target: null, tone: 'none',
      detail: { from: figures.from, to: figures.to } },
    rate('firstResponse', fr.rate, FIRST_RESPONSE_TARGET,
      { met: fr.met, breached: fr.breached, target: percent(FIRST_RESPONSE_TARGET) }),
    rate('complaintClosure', t.complaints.closure_rate, t.complaints.target,
      { created: t.complaints.created, closed: t.complaints.closed, target: percent(t.complaints.target) }),
    rate('completeness', t.completeness.rate, t.completeness.target,
      { closed: t.completeness.closed, complete: t.completeness.complete, target: percent(t.completeness.target) }),
    rate('csat', s.csat, null, { ratings: s.ratings }),
    { key: 'meanRating', value: s.mean_rating, text: rating(s.mean_rating), target: null, tone: 'none',
      detail: { ratings: s.ratings } },
    rate('returnVisit', s.return_visit_rate, null, { closed: t.completeness.closed }),
    { key: 'backlog', value: backlog, text: count(backlog), target: null, tone: 'none',
      detail: { date: last?.end ?? figures.to }, overdue: last?.overdue_at_end ?? null },
  ]
}

// --- charts -----------------------------------------------------------------------------------------------------
export type Unit = 'percent' | 'count' | 'hours'

export interface ChartSeries {
  name: string
  values: (number | null)[]
}

/** What one chart shows: categories along the axis, one or more series, an optional target line (0–100). */
export interface ChartData {
  categoryName: string
  categories: string[]
  series: ChartSeries[]
  unit: Unit
  target?: { name: string; value: number }
}

/** One KPI per period on a 0–100 axis (`pick` returns the 0–1 rate). */
export function rateChart(figures: Figures, granularity: Granularity, pick: (p: Period) => number | null | undefined,
  names: { period: string; series: string; target?: string }, target?: number): ChartData {
  return {
    categoryName: names.period,
    categories: figures.periods.map((p) => periodLabel(p, granularity)),
    series: [{ name: names.series, values: figures.periods.map((p) => toPercent(pick(p))) }],
    unit: 'percent',
    target: target !== undefined && names.target ? { name: names.target, value: toPercent(target)! } : undefined,
  }
}

type Intake = 'intake_by_channel' | 'intake_by_kind'

/** Tickets filed per period, stacked by channel or by kind: the busiest first (or in the given order), those with
 *  none left out. */
export function intakeChart(figures: Figures, granularity: Granularity, by: Intake, names: { period: string },
  nameOf: (key: string) => string, order: string[] = []): ChartData {
  const totals = new Map<string, number>()
  for (const p of figures.periods) {
    for (const [key, n] of Object.entries(p[by] ?? {})) totals.set(key, (totals.get(key) ?? 0) + n)
  }
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length)
  const keys = [...totals].filter(([, n]) => n > 0)
    .sort((a, b) => rank(a[0]) - rank(b[0]) || b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k)
  return {
    categoryName: names.period,
    categories: figures.periods.map((p) => periodLabel(p, granularity)),
    series: keys.map((k) => ({ name: nameOf(k), values: figures.periods.map((p) => p[by]?.[k] ?? 0) })),
    unit: 'count',
  }
}

/** Tickets filed per period by channel (stacked): channels with the most tickets first. */
export const channelChart = (figures: Figures, granularity: Granularity, names: { period: string },
  channelName: (channel: string) => string): ChartData =>
  intakeChart(figures, granularity, 'intake_by_channel', names, channelName)

/** Tickets filed per period by kind (stacked), in the tenant's order of kinds. */
export const kindChart = (figures: Figures, granularity: Granularity, names: { period: string },
  kindName: (kind: string) => string, order: string[] = []): ChartData =>
  intakeChart(figures, granularity, 'intake_by_kind', names, kindName, order)

const hours = (seconds: number | null | undefined) =>
  seconds === null || seconds === undefined ? null : Math.round(seconds / 360) / 10

/** Resolution time per kind over the range (median and p90, in hours), in the tenant's order of kinds. */
export function resolutionChart(figures: Figures, names: { kind: string; median: string; p90: string },
  kindName: (kind: string) => string, order: string[] = []): ChartData {
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length)
  const kinds = Object.keys(figures.total.resolution_by_kind).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  const of = (k: string) => figures.total.resolution_by_kind[k]
  return {
    categoryName: names.kind,
    categories: kinds.map(kindName),
    series: [
      { name: names.median, values: kinds.map((k) => hours(of(k).median_seconds)) },
      { name: names.p90, values: kinds.map((k) => hours(of(k).p90_seconds)) },
    ],
    unit: 'hours',
  }
}

/** Nothing to draw: no periods, no rate anywhere, or only zero counts. */
export function isEmpty(data: ChartData): boolean {
  const blank = (v: number | null) => v === null || (data.unit !== 'percent' && v === 0)
  return !data.categories.length || !data.series.length || data.series.every((s) => s.values.every(blank))
}

export const PALETTE = ['#1677ff', '#00b42a', '#ff7d00', '#722ed1', '#14c9c9', '#f7ba1e', '#eb2f96', '#86909c']
export const CHART_FONT = "-apple-system, 'PingFang SC', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"

export interface Look {
  type: 'line' | 'bar'
  stack?: boolean
  area?: boolean
  colors?: string[]
  /** The word after an hour figure in the tooltip ("小时"). */
  unitName?: string
}

/** The ECharts option drawing a ChartData: a category axis, a 0–100 % axis for rates, gaps for missing rates, and
 * the target as a dashed red line across the plot (markLine). Only line and bar series, a grid, a tooltip, a
 * legend and a mark line: what ReportsView registers. */
export function chartOption(data: ChartData, look: Look): EChartsCoreOption {
  const percentAxis = data.unit === 'percent'
  const shown = (v: unknown) => (v === null || v === undefined || v === '-' ? NONE
    : percentAxis ? `${v}%` : data.unit === 'hours' ? `${v} ${look.unitName ?? ''}`.trim() : String(v))
  const legend = data.series.length > 1
  return {
    color: look.colors ?? PALETTE,
    textStyle: { fontFamily: CHART_FONT },
    animationDuration: 300,
    grid: { left: 4, right: data.target ? 40 : 12, top: legend ? 34 : 14, bottom: 2 }, // the target's label right of the plot
    tooltip: { trigger: 'axis', valueFormatter: shown, confine: true },
    legend: legend ? { top: 0, left: 0, type: 'scroll', itemWidth: 12, itemHeight: 8, textStyle: { fontSize: 12 } } : { show: false },
    xAxis: {
      type: 'category', data: data.categories, axisTick: { alignWithLabel: true },
      axisLabel: { hideOverlap: true, fontSize: 11, color: '#86909c' }, axisLine: { lineStyle: { color: '#c9cdd4' } },
    },
    yAxis: {
      type: 'value', min: 0, max: percentAxis ? 100 : undefined, minInterval: data.unit === 'count' ? 1 : undefined,
      axisLabel: { formatter: percentAxis ? '{value}%' : '{value}', fontSize: 11, color: '#86909c' },
      splitLine: { lineStyle: { color: '#f2f3f5' } },
    },
    series: data.series.map((s, i) => ({
      name: s.name,
      type: look.type,
      data: s.values,
      stack: look.stack ? 'total' : undefined,
      connectNulls: false,
      showSymbol: data.categories.length <= 31,
      symbolSize: 5,
      areaStyle: look.area ? { opacity: 0.12 } : undefined,
      barMaxWidth: 22,
      markLine: i === 0 && data.target ? {
        silent: true, symbol: 'none',
        lineStyle: { type: 'dashed', color: '#f53f3f', width: 1.5 },
        label: { formatter: `${data.target.name}\n${data.target.value}%`, position: 'end', color: '#f53f3f', fontSize: 11, lineHeight: 13 },
        data: [{ yAxis: data.target.value }],
      } : undefined,
    })),
  }
}

/** A chart's values as table rows: the category, each series (a percentage written "93.3%"), the target. */
export function chartRows(data: ChartData, unitName = ''): { header: string[]; rows: Cell[][] } {
  const suffix = data.unit === 'hours' && unitName ? `（${unitName}）` : ''
  const header = [data.categoryName, ...data.series.map((s) => s.name + suffix)]
  if (data.target) header.push(data.target.name)
  const write = (v: number | null) => (v === null ? null : data.unit === 'percent' ? `${v}%` : v)
  const rows = data.categories.map((category, i) => {
    const row: Cell[] = [category, ...data.series.map((s) => write(s.values[i] ?? null))]
    if (data.target) row.push(`${data.target.value}%`)
    return row
  })
  return { header, rows }
}

// --- tables -----------------------------------------------------------------------------------------------------
export const STAFF_COLUMNS = ['name', 'assigned', 'resolved', 'firstResponses', 'firstResponseMedian', 'resolutionMedian',
  'ratings', 'csat', 'reopened', 'breaches', 'openNow'] as const
export type StaffColumn = (typeof STAFF_COLUMNS)[number]
export type StaffLine = Record<StaffColumn, string | number> & { id: string }

/** The staff table as shown (names, durations, CSAT written out): most assigned first, then by name. */
export function staffLines(items: StaffRow[], nameOf: (id: string) => string,
  duration: (seconds: number | null | undefined) => string): StaffLine[] {
  return items.map((r) => ({
    id: r.staff_id, name: nameOf(r.staff_id), assigned: r.assigned, resolved: r.resolved,
    firstResponses: r.first_responses, firstResponseMedian: duration(r.first_response_median_seconds),
    resolutionMedian: duration(r.resolution_median_seconds), ratings: r.ratings, csat: percent(r.csat),
    reopened: r.reopened, breaches: r.breaches, openNow: r.open_now,
  })).sort((a, b) => Number(b.assigned) - Number(a.assigned) || String(a.name).localeCompare(String(b.name), 'zh-CN'))
}

export const RANKING_COLUMNS = ['rank', 'name', 'score', 'firstResponse', 'complaintClosure', 'csat',
  'complaintsPer100', 'complaints', 'created', 'units'] as const
export type RankingColumn = (typeof RANKING_COLUMNS)[number]
export type Board = 'red' | 'black' | null
export type RankingLine = Record<RankingColumn, string | number> & { id: string; board: Board }

/** 红榜 and 黑榜: the best and the worst scored communities, up to three each and never more than half of them
 * (two communities: one of each; one: neither). Communities without a score are on neither. */
export function boards(items: CommunityRow[]): Record<string, Board> {
  const scored = items.filter((r) => r.score !== null && r.score !== undefined)
  const k = Math.min(3, Math.floor(scored.length / 2))
  const out: Record<string, Board> = Object.fromEntries(items.map((r) => [r.community_id, null]))
  scored.slice(0, k).forEach((r) => (out[r.community_id] = 'red'))
  scored.slice(scored.length - k).forEach((r) => {
    if (k) out[r.community_id] = 'black'
  })
  return out
}

export function rankingLines(items: CommunityRow[]): RankingLine[] {
  const board = boards(items)
  return items.map((r) => ({
    id: r.community_id, board: board[r.community_id], rank: r.rank, name: r.name,
    score: r.score === null || r.score === undefined ? NONE : r.score.toFixed(1),
    firstResponse: percent(r.first_response_compliance), complaintClosure: percent(r.complaint_closure_rate),
    csat: percent(r.csat), complaintsPer100: r.complaints_per_100_units ?? NONE, complaints: r.complaints,
    created: r.created, units: r.units,
  }))
}

/** A table's lines as rows in its columns' order, "—" (no figure) written as an empty cell. */
export function tableRows<C extends string>(lines: Record<C, string | number>[], columns: readonly C[]): Cell[][] {
  return lines.map((line) => columns.map((c) => (line[c] === NONE ? null : line[c])))
}

// --- CSV --------------------------------------------------------------------------------------------------------
const FORMULA_TRIGGERS = ['=', '+', '-', '@', '\t', '\r', '\n']
const PLAIN_NUMBER = /^[+-]?\d+(?:\.\d+)?$/

/** A cell a spreadsheet reads as text, not as a formula: `'` before a value starting with = + - @ (or a tab or line
 * break), except a plain number such as -1 (chalicelib.residents.csv_files.neutralise does the same). */
export function neutralise(value: string): string {
  return FORMULA_TRIGGERS.some((c) => value.startsWith(c)) && !PLAIN_NUMBER.test(value) ? `'${value}` : value
}

/** One CSV field: neutralised, then quoted when it holds a quote, comma or line break (quotes doubled). */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return ''
  const text = neutralise(typeof value === 'number' ? String(value) : value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** A whole file: UTF-8 byte order mark (so Excel reads the Chinese right), CRLF line ends (RFC 4180). */
export function toCsv(header: Cell[], rows: Cell[][]): string {
  return `\uFEFF${[header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`
}

/** A file name for an export: 报表名_from_to.csv, without characters a file system refuses. */
export function csvName(title: string, from: string, to: string): string {
  return `${title}_${from}_${to}.csv`.replace(/[\\/:*?"<>|\s]+/g, '_')
}

// --- today ------------------------------------------------------------------------------------------------------
export type TodayKey = 'open' | 'created' | 'atRisk' | 'breached'
export interface TodayTile {
  key: TodayKey
  text: string
  /** warn: some tickets are about to breach; bad: some breached; none: nothing to flag (or no figure). */
  tone: 'warn' | 'bad' | 'none'
}

/** How many tickets one page of a list holds: "100+" when there are more pages, "—" when the list was not read. */
export function pageCount(page: { items: unknown[]; next_cursor?: string | null } | null | undefined): string {
  if (!page) return NONE
  return page.next_cursor ? `${page.items.length}+` : String(page.items.length)
}

/** The 今日 row: open now and filed today (today's figures: backlog at its end, created), about to breach (the
 * open queue's tickets in their warning time) and breached (open, a clock breached). Each may be missing ("—"). */
export function todayTiles(today: Figures | null, warning: { items: unknown[]; next_cursor?: string | null } | null,
  breached: { items: unknown[]; next_cursor?: string | null } | null): TodayTile[] {
  const period = today?.periods[today.periods.length - 1]
  const flag = (page: typeof warning, tone: 'warn' | 'bad') => (page && page.items.length ? tone : 'none')
  return [
    { key: 'open', text: count(period?.backlog_at_end), tone: 'none' },
    { key: 'created', text: count(today?.total.created), tone: 'none' },
    { key: 'atRisk', text: pageCount(warning), tone: flag(warning, 'warn') },
    { key: 'breached', text: pageCount(breached), tone: flag(breached, 'bad') },
  ]
}

// --- months -----------------------------------------------------------------------------------------------------
/** The longest month range the satisfaction ↔ renewal report answers (reports.service._check_months). */
export const MAX_MONTHS = 12

export function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number)
  const index = y * 12 + (m - 1) + n
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`
}

/** Months in [from, to], both included (0 when reversed). */
export function monthSpan(from: string, to: string): number {
  const index = (month: string) => Number(month.slice(0, 4)) * 12 + Number(month.slice(5, 7))
  return Math.max(0, index(to) - index(from) + 1)
}

/** The last `count` months ending with this one, in the tenant's time zone. */
export function lastMonths(now: Date, timeZone = 'Asia/Shanghai', count = 6): { from: string; to: string } {
  const to = dayIn(now, timeZone).slice(0, 7)
  return { from: addMonths(to, -(count - 1)), to }
}

// --- satisfaction ↔ renewal ---------------------------------------------------------------------------------------
export type RateKey = 'collection_rate' | 'renewal_rate'

export interface ScatterPoint {
  /** [CSAT, rate], both 0–100. */
  value: [number, number]
  name: string
  month: string
  ratings: number
}

/** One point per community-month with both a CSAT and the rate (what the API's correlation counts). */
export function scatterPoints(rows: RenewalRow[], rate: RateKey): ScatterPoint[] {
  return rows.filter((r) => r.csat !== null && r[rate] !== null && r[rate] !== undefined)
    .map((r) => ({ value: [toPercent(r.csat)!, toPercent(r[rate])!], name: r.name, month: r.month, ratings: r.ratings }))
}

/** The trend line `rate = slope × CSAT + intercept` (0–1 both) drawn across the points' CSAT range, on 0–100 axes;
 * null without a line (fewer than 2 pairs, one CSAT for all) or without points. */
export function trendLine(correlation: Correlation | null | undefined, points: ScatterPoint[]): [number, number][] | null {
  if (!correlation || correlation.slope === null || correlation.intercept === null || !points.length) return null
  const xs = points.map((p) => p.value[0])
  const ends = [Math.min(...xs), Math.max(...xs)]
  if (ends[0] === ends[1]) return null
  const { slope, intercept } = correlation
  return ends.map((x) => [x, Math.round((slope * (x / 100) + intercept) * 1000) / 10] as [number, number])
}

/** The lower end of a 0–100 axis showing these values: 5 below the smallest, down to the ten (0 when there are none). */
export function axisFloor(values: number[]): number {
  if (!values.length) return 0
  return Math.max(0, Math.floor((Math.min(...values) - 5) / 10) * 10)
}

/** The upper end: 5 above the largest, up to the next ten, never over 100 (100 when there are none). */
export function axisCeil(values: number[]): number {
  if (!values.length) return 100
  return Math.min(100, Math.ceil((Math.max(...values) + 5) / 10) * 10)
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
/** Text for ECharts' HTML tooltips (community names are the tenant's own words). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
}

/** The scatter: CSAT across, the rate up, one point per community-month (its name and month in the tooltip), and
 * the trend line. Only scatter and line series, a grid and a tooltip (what RenewalSection registers). */
export function scatterOption(points: ScatterPoint[], line: [number, number][] | null,
  names: { x: string; y: string; trend: string }): EChartsCoreOption {
  const axis = (name: string, values: number[], location: 'middle' | 'end') => ({
    type: 'value', name, nameLocation: location, nameGap: location === 'middle' ? 24 : 8, min: axisFloor(values), max: axisCeil(values),
    nameTextStyle: { fontSize: 11, color: '#86909c' },
    axisLabel: { formatter: '{value}%', fontSize: 11, color: '#86909c' }, splitLine: { lineStyle: { color: '#f2f3f5' } },
  })
  const shown = (v: number) => `${v}%`
  return {
    color: ['#1677ff', '#ff7d00'],
    textStyle: { fontFamily: CHART_FONT },
    animationDuration: 300,
    grid: { left: 8, right: 20, top: 28, bottom: 26, containLabel: true },
    tooltip: {
      trigger: 'item', confine: true,
      formatter: (p: { seriesType?: string; data?: ScatterPoint | [number, number] }) => {
        if (p.seriesType !== 'scatter' || !p.data || Array.isArray(p.data)) return escapeHtml(names.trend)
        const d = p.data
        return `${escapeHtml(d.name)} · ${d.month}<br/>${escapeHtml(names.x)} ${shown(d.value[0])}<br/>`
          + `${escapeHtml(names.y)} ${shown(d.value[1])}`
      },
    },
    xAxis: axis(names.x, points.map((p) => p.value[0]), 'middle'),
    yAxis: axis(names.y, [...points.map((p) => p.value[1]), ...(line ?? []).map((l) => l[1])], 'end'),
    series: [
      { type: 'scatter', name: names.y, data: points, symbolSize: 10, itemStyle: { opacity: 0.8 } },
      ...(line ? [{ type: 'line', name: names.trend, data: line, showSymbol: false, silent: false,
        lineStyle: { type: 'dashed', width: 1.5, color: '#ff7d00' }, z: 1 }] : []),
    ],
  }
}

/** The report's rows as a table (for the CSV): community, month, ratings, CSAT, mean rating and both rates. */
export function renewalTable(rows: RenewalRow[]): Cell[][] {
  const rate = (v: number | null | undefined) => (v === null || v === undefined ? null : percent(v))
  return rows.map((r) => [r.name, r.month, r.ratings, rate(r.csat), r.mean_rating === null ? null : rating(r.mean_rating),
    rate(r.collection_rate), rate(r.renewal_rate)])
}

export interface RiskLine {
  id: string
  name: string
  previous: string
  last: string
  change: string
}

/** 续费风险: the communities whose CSAT fell 10 % or more, the steepest fall first. */
export function riskLines(risks: RenewalRisk[]): RiskLine[] {
  return [...risks].sort((a, b) => a.change - b.change || a.name.localeCompare(b.name, 'zh-CN')).map((r) => ({
    id: r.community_id, name: r.name, previous: percent(r.previous_csat), last: percent(r.last_csat),
    change: percent(r.change),
  }))
}

/** A quarter as its first and last month: 2026-06~08. */
export function quarterLabel(months: string[]): string {
  if (!months.length) return NONE
  const first = months[0]
  const last = months[months.length - 1]
  return first === last ? first : first.slice(0, 4) === last.slice(0, 4) ? `${first}~${last.slice(5)}` : `${first}~${last}`
}

/** Pearson's r as shown: two decimals ("0.62"), null when the API has too few pairs. */
export function correlationText(correlation: Correlation | null | undefined): string | null {
  return correlation && correlation.r !== null ? correlation.r.toFixed(2) : null
}

// --- property-fee rates (物业费收缴录入) --------------------------------------------------------------------------
/** The columns of the fee-rate import; the template writes them as the import reads them (reports.fees.HEADERS). */
export const FEE_HEADER = ['小区', '月份', '收缴率', '续费率'] as const

/** A stored 0–1 rate as the percentage typed in the form ("93.25"), "" when there is none. */
export function rateToPercentText(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '' : String(Math.round(rate * 10000) / 100)
}

/** A percentage typed in the form as a 0–1 rate: blank is no figure (null); "93", "93.5" or "93%" from 0 to 100;
 * anything else is refused (undefined). */
export function percentToRate(text: string | null | undefined): number | null | undefined {
  const typed = (text ?? '').trim()
  if (!typed) return null
  const cleaned = typed.replace(/[%％]$/, '').trim()
  if (!/^\d+(?:\.\d+)?$/.test(cleaned)) return undefined
  const value = Number(cleaned)
  if (!(value >= 0 && value <= 100)) return undefined
  return Math.round(value * 100) / 10000
}

export interface FeeFormRow {
  community_id: string
  name: string
  collection: string
  renewal: string
}

export type FeeField = 'collection' | 'renewal'

/** What the form sends: one item per community with at least one rate (both blank: not sent), and the cells that
 * are not a percentage from 0 to 100 (then nothing is sent). */
export function feeItems(rows: FeeFormRow[], month: string): { items: FeeRateIn[]; invalid: string[] } {
  const items: FeeRateIn[] = []
  const invalid: string[] = []
  for (const row of rows) {
    const collection = percentToRate(row.collection)
    const renewal = percentToRate(row.renewal)
    if (collection === undefined) invalid.push(`${row.community_id}.collection`)
    if (renewal === undefined) invalid.push(`${row.community_id}.renewal`)
    if (collection === undefined || renewal === undefined || (collection === null && renewal === null)) continue
    items.push({ community_id: row.community_id, month, collection_rate: collection, renewal_rate: renewal })
  }
  return { items: invalid.length ? [] : items, invalid }
}

/** The form's rows: every community, prefilled with the month's recorded rates. */
export function feeFormRows(communities: { id: string; name: string }[], rates: FeeRate[], month: string): FeeFormRow[] {
  const byCommunity = new Map(rates.filter((r) => r.month === month).map((r) => [r.community_id, r]))
  return communities.map((c) => {
    const rate = byCommunity.get(c.id)
    return { community_id: c.id, name: c.name, collection: rateToPercentText(rate?.collection_rate),
      renewal: rateToPercentText(rate?.renewal_rate) }
  })
}

/** The import template: the header the import reads, then one row per community for the month, rates blank. */
export function feeTemplateCsv(communityNames: string[], month: string): string {
  return toCsv([...FEE_HEADER], communityNames.map((name) => [name, month, null, null]))
}

export type FeeFileType = 'text/csv' | 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** The Content-Type an import is sent with, by the file's extension; null for anything but .csv and .xlsx. */
export function feeFileType(filename: string): FeeFileType | null {
  const ext = filename.trim().toLowerCase().match(/\.([a-z0-9]+)$/)?.[1]
  return ext === 'csv' ? 'text/csv' : ext === 'xlsx' ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' : null
}

/** An import error in the reader's words: the key under reports.fees.problems and its parameters, or null to show
 * the API's own message. */
export function importProblem(error: FeeImportError): { key: string; params: Record<string, string> } | null {
  const unknown = error.message.match(/^No community (.+)\.$/)
  if (error.field === 'community') return unknown ? { key: 'unknownCommunity', params: { name: unknown[1] } } : { key: 'community', params: {} }
  if (error.field === 'month') return { key: 'month', params: {} }
  if (error.field === 'collection_rate' && /^Give /.test(error.message)) return { key: 'noRate', params: {} }
  if (error.field === 'collection_rate' || error.field === 'renewal_rate') return { key: 'rate', params: {} }
  if (error.field === 'header') return { key: 'header', params: {} }
  return null
}

// --- ticket export ------------------------------------------------------------------------------------------------
/** How often a running export is asked about, and for how long before the screen gives up waiting. */
export const EXPORT_POLL_MS = 1000
export const EXPORT_WAIT_MS = 120_000

export function exportFinished(job: Pick<ExportJob, 'status'> | null | undefined): boolean {
  return job?.status === 'done' || job?.status === 'failed'
}
