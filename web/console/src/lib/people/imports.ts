// The import screen's rules (pure; tests/people-imports.test.ts): which files it takes, the columns a file needs and
// the template offered for download, how far a job has got, and how its status is shown.

export type ImportStatus = 'queued' | 'running' | 'completed' | 'failed'
export type ImportFormat = 'csv' | 'xlsx'
export type Tone = 'info' | 'primary' | 'success' | 'danger' | 'warning'

/** What the API takes per file (residents.imports.files.MAX_FILE_BYTES); the presigned POST enforces it too. */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024

export const CONTENT_TYPES = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const satisfies Record<ImportFormat, string>

/** The `accept` of the file input: both extensions and both types (Windows sometimes reports a CSV as Excel's). */
export const ACCEPT = '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export interface ImportColumn {
  /** The API's field name (also the i18n key under imports.columns). */
  key: 'community' | 'building' | 'entrance' | 'number' | 'name' | 'phone' | 'relation'
  /** The header the template writes (one of the API's accepted names: residents.csv_files.HEADER_ALIASES). */
  header: string
  required: boolean
  example: string
}

/** The columns an import reads, in the order the export writes them (csv_files.EXPORT_HEADER). */
export const IMPORT_COLUMNS: readonly ImportColumn[] = [
  { key: 'community', header: '小区', required: true, example: '翠苑小区' },
  { key: 'building', header: '楼栋', required: true, example: '1栋' },
  { key: 'entrance', header: '单元', required: false, example: '2单元' },
  { key: 'number', header: '房号', required: true, example: '202' },
  { key: 'name', header: '姓名', required: true, example: '王芳' },
  { key: 'phone', header: '手机', required: true, example: '13800000001' },
  { key: 'relation', header: '身份', required: false, example: '业主' },
]

const TEMPLATE_EXAMPLES: readonly string[][] = [
  ['翠苑小区', '1栋', '2单元', '202', '王芳', '13800000001', '业主'],
  ['翠苑小区', '1栋', '2单元', '202', '李强', '13900000002', '家属'],
  ['翠苑小区', '3栋', '', '1201', '张伟', '13700000003', '住户'],
]

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value
}

/** The template a person fills in: UTF-8 with a BOM (so Excel shows the Chinese headers), CRLF lines, the header
 * and a few example rows (a unit shared by an owner and a family member, and a building without entrances). */
export function templateCsv(examples: readonly string[][] = TEMPLATE_EXAMPLES): string {
  const lines = [IMPORT_COLUMNS.map((c) => c.header), ...examples]
  return '\uFEFF' + lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

/** The file's format by its extension (what a person picked), or null when it is neither CSV nor XLSX. */
export function formatOf(filename: string): ImportFormat | null {
  const ext = filename.trim().toLowerCase().match(/\.([a-z0-9]+)$/)?.[1]
  if (ext === 'csv') return 'csv'
  if (ext === 'xlsx') return 'xlsx'
  return null
}

export type FileProblem = 'type' | 'legacyExcel' | 'empty' | 'tooLarge'

/** Whether a picked file can be uploaded: its format, or why not (an .xls is named, since it is the usual mistake). */
export function checkFile(file: { name: string; size: number }, maxBytes = MAX_IMPORT_BYTES):
  { format: ImportFormat; problem: null } | { format: null; problem: FileProblem } {
  const format = formatOf(file.name)
  if (!format) return { format: null, problem: /\.xls$/i.test(file.name.trim()) ? 'legacyExcel' : 'type' }
  if (file.size <= 0) return { format: null, problem: 'empty' }
  if (file.size > maxBytes) return { format: null, problem: 'tooLarge' }
  return { format, problem: null }
}

/** The multipart body of a presigned S3 POST: every field the API returned, in order, then the file (S3 ignores
 * any field after `file`, so it must come last). */
export function uploadForm(fields: Record<string, string>, file: Blob, filename?: string): FormData {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) form.append(name, value)
  if (filename !== undefined) form.append('file', file, filename)
  else form.append('file', file)
  return form
}

export interface Progress {
  status: ImportStatus
  total_rows?: number | null
  processed_rows?: number | null
}

/** Whole percent of the rows processed: 0 until the file is read (total unknown), 100 once completed (also for a
 * file with no rows), never above 100 nor below 0. */
export function percentOf(job: Progress): number {
  if (job.status === 'completed') return 100
  const total = job.total_rows ?? 0
  if (total <= 0) return 0
  const done = Math.max(0, job.processed_rows ?? 0)
  return Math.min(100, Math.floor((done * 100) / total))
}

export function isFinished(status: ImportStatus | string | null | undefined): boolean {
  return status === 'completed' || status === 'failed'
}

/** How a status is coloured (el-tag type): a completed job with failed rows is a warning, not a success. */
export function statusTone(status: ImportStatus | string, failed = 0): Tone {
  switch (status) {
    case 'queued': return 'info'
    case 'running': return 'primary'
    case 'completed': return failed > 0 ? 'warning' : 'success'
    case 'failed': return 'danger'
    default: return 'info'
  }
}

/** el-progress's colour: blue while it runs, green when done cleanly, amber with failed rows, red when the file was
 * refused (a colour rather than el-progress's `status`, which would replace the percentage with an icon). */
export function progressColor(status: ImportStatus | string, failed = 0): string {
  if (status === 'failed') return '#f56c6c'
  if (status === 'completed') return failed > 0 ? '#e6a23c' : '#67c23a'
  return '#409eff'
}

/** Delay before the next poll of a job: every second while a person watches (the brief's pace), none once done. */
export function nextPollDelay(status: ImportStatus | string, intervalMs = 1000): number | null {
  return isFinished(status) ? null : intervalMs
}

/** Whether a presigned link fetched at `fetchedAt` (ms) for `expiresIn` seconds is still safe to follow (a margin of
 * 10 s, so a click never lands on an expired link). */
export function linkFresh(fetchedAt: number, expiresIn: number, now: number): boolean {
  return now < fetchedAt + Math.max(0, expiresIn - 10) * 1000
}
