// Communities → buildings → units, as the places screen shows and writes them (pure; tests/people-places.test.ts).

export type PlaceLevel = 'community' | 'building' | 'unit'

/** One node of the places tree: which level, the ids that locate it, its label, and the resource it stands for. */
export interface PlaceNode<T = unknown> {
  key: string
  level: PlaceLevel
  label: string
  communityId: string
  buildingId?: string
  leaf: boolean
  data: T
}

/** A unit's label as the API composes it (residents.domain.unit_label): building, entrance, number run together.
 *
 * unitLabel('3栋', '2单元', '1201') → '3栋2单元1201' */
export function unitLabel(building: string, entrance: string | null | undefined, number: string): string {
  return `${building.trim()}${(entrance ?? '').trim()}${number.trim()}`
}

/** A bare number typed for a building or an entrance gets the word a property company writes after it, so labels
 * read 3栋2单元1201 and not 321201 (anything else is kept as typed: 3号楼, A座, 二单元).
 *
 * withSuffix('3', '栋') → '3栋'; withSuffix('A座', '栋') → 'A座' */
export function withSuffix(value: string, suffix: string): string {
  const text = value.trim()
  return /^\d+$/.test(text) ? `${text}${suffix}` : text
}

const collator = new Intl.Collator('zh-CN', { numeric: true, sensitivity: 'base' })

/** Natural order for names and labels: 2栋 before 10栋, 201 before 1001. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b)
}

export function sortedBy<T>(items: readonly T[], label: (item: T) => string): T[] {
  return [...items].sort((x, y) => naturalCompare(label(x), label(y)))
}

/** The unit's label inside its building's branch: the entrance and number alone (the building is its parent). */
export function unitShortLabel(unit: { entrance?: string | null; number: string }): string {
  return `${unit.entrance ?? ''}${unit.number}`
}

/** Units of one building grouped by entrance (units without one under ''), entrances and units in natural order. */
export function byEntrance<T extends { entrance?: string | null; number: string }>(units: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>()
  for (const unit of units) {
    const key = unit.entrance ?? ''
    groups.set(key, [...(groups.get(key) ?? []), unit])
  }
  return [...groups.entries()]
    .sort(([a], [b]) => naturalCompare(a, b))
    .map(([entrance, list]) => [entrance, sortedBy(list, (u) => u.number)])
}

/** Every item of a paged list (`?limit=&cursor=`), following `next_cursor` up to `maxPages` pages. */
export async function allPages<T>(
  fetchPage: (cursor?: string) => Promise<{ items: T[]; next_cursor?: string | null }>,
  maxPages = 50,
): Promise<T[]> {
  const out: T[] = []
  let cursor: string | undefined
  for (let page = 0; page < maxPages; page++) {
    const body = await fetchPage(cursor)
    out.push(...body.items)
    if (!body.next_cursor) break
    cursor = body.next_cursor
  }
  return out
}

/** What to search residents by to find one unit's people (GET /v1/residents?q=): the community's name before the
 * label when the search can tell them apart (a name without Latin letters or digits: 翠苑小区1栋2单元202), else the
 * label alone (the screen then keeps the residents of that very unit). */
export function unitQuery(communityName: string | null | undefined, label: string): string {
  const name = (communityName ?? '').trim()
  return name && !/[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]/.test(name) ? `${name}${label}` : label
}
