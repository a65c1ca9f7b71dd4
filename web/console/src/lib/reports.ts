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
export type Granularity = 'day' | 'week' | 'month'
export type Cell = string | number | null | undefined

/** The dashboard's target line for 15-minute first-response compliance (kpis.FIRST_RESPONSE_TARGET). */
export const FIRST_RESPONSE_TARGET = 0.95
/** The longest range the API answers (reports.service.MAX_DAYS). */
export const MAX_DAYS = 366
export const NONE = '—'

// --- dates ------------------------------------------------------------------------------------------------------
/** `YYYY-MM-DD` of `now` in a time zone (the tenant's calendar day). */
export function dayIn(now: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(now)
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
      detail: { date: last?.end ?? figures.to } },
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

/** Tickets filed per period by channel (stacked): channels with the most tickets first, those with none left out. */
export function channelChart(figures: Figures, granularity: Granularity, names: { period: string },
  channelName: (channel: string) => string): ChartData {
  const totals = new Map<string, number>()
  for (const p of figures.periods) {
    for (const [channel, n] of Object.entries(p.intake_by_channel)) totals.set(channel, (totals.get(channel) ?? 0) + n)
  }
  const channels = [...totals].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([c]) => c)
  return {
    categoryName: names.period,
    categories: figures.periods.map((p) => periodLabel(p, granularity)),
    series: channels.map((c) => ({ name: channelName(c), values: figures.periods.map((p) => p.intake_by_channel[c] ?? 0) })),
    unit: 'count',
  }
}

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
