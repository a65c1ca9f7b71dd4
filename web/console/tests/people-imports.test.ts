import { describe, expect, it } from 'vitest'
import {
  checkFile, formatOf, IMPORT_COLUMNS, isFinished, linkFresh, nextPollDelay, percentOf, progressColor, statusTone, templateCsv,
  uploadForm,
} from '@/lib/people/imports'

describe('percentOf', () => {
  it('is the whole percent of rows processed', () => {
    expect(percentOf({ status: 'running', total_rows: 200, processed_rows: 50 })).toBe(25)
    expect(percentOf({ status: 'running', total_rows: 3, processed_rows: 2 })).toBe(66)
  })
  it('is 0 while the file is unread (total unknown) and for a running job with no rows', () => {
    expect(percentOf({ status: 'queued', total_rows: null, processed_rows: 0 })).toBe(0)
    expect(percentOf({ status: 'running', total_rows: 0, processed_rows: 0 })).toBe(0)
  })
  it('is 100 once completed, also for an empty file, and never beyond 100 or below 0', () => {
    expect(percentOf({ status: 'completed', total_rows: 0, processed_rows: 0 })).toBe(100)
    expect(percentOf({ status: 'running', total_rows: 10, processed_rows: 12 })).toBe(100)
    expect(percentOf({ status: 'running', total_rows: 10, processed_rows: -1 })).toBe(0)
  })
  it('keeps what was reached when the job failed', () => {
    expect(percentOf({ status: 'failed', total_rows: null, processed_rows: 0 })).toBe(0)
    expect(percentOf({ status: 'failed', total_rows: 4, processed_rows: 1 })).toBe(25)
  })
})

describe('status', () => {
  it('maps each status to a tone, a completed job with failed rows to a warning', () => {
    expect(statusTone('queued')).toBe('info')
    expect(statusTone('running')).toBe('primary')
    expect(statusTone('completed')).toBe('success')
    expect(statusTone('completed', 3)).toBe('warning')
    expect(statusTone('failed')).toBe('danger')
    expect(statusTone('something-new')).toBe('info')
  })
  it('colours the progress bar the same way', () => {
    expect(progressColor('queued')).toBe(progressColor('running'))
    expect(progressColor('completed')).toBe('#67c23a')
    expect(progressColor('completed', 1)).toBe('#e6a23c')
    expect(progressColor('failed')).toBe('#f56c6c')
  })
  it('polls every second until the job is completed or failed', () => {
    expect(isFinished('queued')).toBe(false)
    expect(isFinished('running')).toBe(false)
    expect(isFinished('completed')).toBe(true)
    expect(isFinished('failed')).toBe(true)
    expect(nextPollDelay('queued')).toBe(1000)
    expect(nextPollDelay('running')).toBe(1000)
    expect(nextPollDelay('completed')).toBeNull()
    expect(nextPollDelay('failed')).toBeNull()
  })
})

describe('files', () => {
  it('tells the format by the extension, whatever its case', () => {
    expect(formatOf('业主名单.csv')).toBe('csv')
    expect(formatOf('Residents.XLSX')).toBe('xlsx')
    expect(formatOf('a.xls')).toBeNull()
    expect(formatOf('a.csv.txt')).toBeNull()
    expect(formatOf('csv')).toBeNull()
  })
  it('refuses other types, old .xls by name, empty and oversized files', () => {
    expect(checkFile({ name: 'a.csv', size: 10 })).toEqual({ format: 'csv', problem: null })
    expect(checkFile({ name: 'a.pdf', size: 10 })).toEqual({ format: null, problem: 'type' })
    expect(checkFile({ name: 'a.xls', size: 10 })).toEqual({ format: null, problem: 'legacyExcel' })
    expect(checkFile({ name: 'a.xlsx', size: 0 })).toEqual({ format: null, problem: 'empty' })
    expect(checkFile({ name: 'a.xlsx', size: 20 * 1024 * 1024 })).toEqual({ format: 'xlsx', problem: null })
    expect(checkFile({ name: 'a.xlsx', size: 20 * 1024 * 1024 + 1 })).toEqual({ format: null, problem: 'tooLarge' })
  })
  it('builds the S3 form with every returned field in order and the file last', async () => {
    const form = uploadForm({ key: 't/tnt_1/imports/upl_1', 'Content-Type': 'text/csv', policy: 'p', 'x-amz-signature': 's' },
      new Blob(['小区\r\n'], { type: 'text/csv' }), '业主.csv')
    const names = [...form.keys()]
    expect(names).toEqual(['key', 'Content-Type', 'policy', 'x-amz-signature', 'file'])
    expect(form.get('Content-Type')).toBe('text/csv')
    const file = form.get('file') as File
    expect(file.name).toBe('业主.csv')
    expect(await file.text()).toBe('小区\r\n')
  })
})

describe('template', () => {
  const text = templateCsv()
  const lines = text.replace(/^\uFEFF/, '').split('\r\n')
  it('starts with a BOM so Excel reads the Chinese headers, and ends its lines with CRLF', () => {
    expect(text.startsWith('\uFEFF小区,')).toBe(true)
    expect(text.endsWith('\r\n')).toBe(true)
    expect(text.includes('\n') && !/[^\r]\n/.test(text)).toBe(true)
  })
  it('has the import columns as the API names them, required ones first-class', () => {
    expect(lines[0]).toBe('小区,楼栋,单元,房号,姓名,手机,身份')
    expect(IMPORT_COLUMNS.filter((c) => c.required).map((c) => c.key)).toEqual(['community', 'building', 'number', 'name', 'phone'])
  })
  it('has example rows as wide as the header, each with a valid mobile number', () => {
    const rows = lines.slice(1).filter(Boolean).map((l) => l.split(','))
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) {
      expect(row).toHaveLength(IMPORT_COLUMNS.length)
      expect(row[5]).toMatch(/^1[3-9]\d{9}$/)
      expect(['业主', '住户', '家属', '']).toContain(row[6])
    }
  })
  it('quotes cells holding commas, quotes or line breaks', () => {
    expect(templateCsv([['翠苑, 一期', '1"栋', '', '1', '王', '13800000001', '']]).split('\r\n')[1])
      .toBe('"翠苑, 一期","1""栋",,1,王,13800000001,')
  })
})

describe('linkFresh', () => {
  it('treats a presigned link as stale 10 s before it expires', () => {
    expect(linkFresh(0, 300, 289_000)).toBe(true)
    expect(linkFresh(0, 300, 290_000)).toBe(false)
    expect(linkFresh(0, 5, 0)).toBe(false)
  })
})
