// Saving what the dashboard made as a file: a CSV built by lib/reports.ts (toCsv) or any text, through a temporary
// object URL on a clicked <a download>, and the "已导出" note.
import { ElMessage } from 'element-plus'
import { i18n } from '@/i18n'
import { csvName, toCsv, type Cell } from '@/lib/reports'

export function saveText(text: string, filename: string, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  followLink(url, filename)
  setTimeout(() => URL.revokeObjectURL(url), 10000)
}

/** Follows a link as a download (a presigned link names the file itself; `download` only counts on this origin). */
export function followLink(href: string, filename?: string): void {
  const link = document.createElement('a')
  link.href = href
  if (filename) link.download = filename
  link.rel = 'noopener'
  link.style.display = 'none'
  document.body.appendChild(link)
  link.click()
  link.remove()
}

/** A table as `title_from_to.csv` (UTF-8 with BOM), and a note saying so. */
export function saveCsv(title: string, from: string, to: string, header: Cell[], rows: Cell[][]): void {
  const name = csvName(title, from, to)
  saveText(toCsv(header, rows), name)
  ElMessage.success({ message: i18n.global.t('reports.exported', { name }), grouping: true })
}
