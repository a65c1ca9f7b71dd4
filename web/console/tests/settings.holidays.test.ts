// The console's copy of China's holiday schedule (src/lib/settings/chinaHolidays.ts) must be the server's: when the
// server's chinese-calendar is upgraded, this test fails and prints the file's new data.
import { describe, expect, it } from 'vitest'
import { HOLIDAYS, PUBLISHED_YEARS, WORKDAYS } from '@/lib/settings/chinaHolidays'

const DUMP = `
import json
from chinese_calendar.constants import holidays, workdays
def pack(dates):
    by = {}
    for d in sorted(dates):
        by.setdefault(str(d.year), []).append(d.strftime("%m%d"))
    return {y: " ".join(v) for y, v in by.items()}
years = sorted({d.year for d in holidays})
print(json.dumps({"from": years[0], "to": years[-1], "holidays": pack(holidays), "workdays": pack(workdays)}))
`

async function python(script: string): Promise<unknown | null> {
  const fs = await import(['node', 'fs'].join(':')) // computed names: the console's type check has no @types/node
  const cp = await import(['node', 'child_process'].join(':'))
  const root = new URL('../../../', import.meta.url).pathname
  const bin = `${root}.venv/bin/python`
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: make test-web installs it first`)
  return JSON.parse(cp.execFileSync(bin, ['-c', script], { cwd: root, encoding: 'utf8' }))
}

const asStrings = (table: Record<number, string>) => Object.fromEntries(Object.entries(table).map(([y, v]) => [String(y), v]))

describe("China's holiday schedule", () => {
  it('has the 2026 National Day week and its make-up Saturday', () => {
    expect(HOLIDAYS[2026]).toContain('1001 1002 1003 1004 1005 1006 1007')
    expect(WORKDAYS[2026].split(' ')).toContain('1010')
    expect(PUBLISHED_YEARS.to).toBeGreaterThanOrEqual(2026)
  })

  it("is the server's (chinese-calendar in the virtualenv)", async () => {
    const server = (await python(DUMP)) as { from: number; to: number; holidays: Record<string, string>; workdays: Record<string, string> } | null

    const mine = { from: PUBLISHED_YEARS.from, to: PUBLISHED_YEARS.to, holidays: asStrings(HOLIDAYS), workdays: asStrings(WORKDAYS) }
    expect(mine, 'regenerate src/lib/settings/chinaHolidays.ts from: ' + JSON.stringify(server)).toEqual(server)
  }, 30000)
})
