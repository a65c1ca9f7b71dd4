// Residents as the residents screen shows and writes them (pure; tests/people-residents.test.ts).

export type Relation = 'owner' | 'occupant' | 'family'
export const RELATIONS: readonly Relation[] = ['owner', 'occupant', 'family']

export interface ResidentUnitLike {
  unit_id: string
  community_id: string
  relation: Relation
  label?: string
}

/** A unit of a resident in one line: community name and unit label (翠苑小区 1栋2单元202). */
export function unitLine(unit: { community_id: string; label?: string | null }, communityNames: Record<string, string>): string {
  return [communityNames[unit.community_id] ?? '', unit.label ?? ''].filter(Boolean).join(' ')
}

/** A mainland mobile number as the API stores it (spaces, hyphens, brackets and +86 dropped), or null when what
 * was typed is not one. The API checks again; this only lets the form say so before sending. */
export function normalisePhone(raw: string): string | null {
  let digits = raw.trim().replace(/[\s\-()（）]/g, '')
  if (digits.length > 11) digits = digits.replace(/^\+?86/, '')
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null
}

/** Whether a phone is shown masked (138****5678): it cannot be sent back as the resident's number. */
export function isMasked(phone: string | null | undefined): boolean {
  return !!phone && phone.includes('*')
}

export interface ResidentForm {
  name: string
  phone: string
  units: ResidentUnitLike[]
}

function unitsKey(units: readonly ResidentUnitLike[]): string {
  return units.map((u) => `${u.community_id}/${u.unit_id}/${u.relation}`).sort().join('|')
}

/** The body of a new resident: trimmed name, the phone as typed (the API normalises it), units without labels. */
export function residentBody(form: ResidentForm): { name: string; phone: string; units: Omit<ResidentUnitLike, 'label'>[] } {
  return {
    name: form.name.trim(),
    phone: form.phone.trim(),
    units: form.units.map(({ unit_id, community_id, relation }) => ({ unit_id, community_id, relation })),
  }
}

/** The PATCH of an edited resident: only what changed (a masked phone left as it is is never sent back). */
export function residentPatch(original: ResidentForm, form: ResidentForm): Partial<ReturnType<typeof residentBody>> {
  const body = residentBody(form)
  const patch: Partial<ReturnType<typeof residentBody>> = {}
  if (body.name !== original.name.trim()) patch.name = body.name
  if (body.phone !== original.phone.trim() && !isMasked(body.phone)) patch.phone = body.phone
  if (unitsKey(form.units) !== unitsKey(original.units)) patch.units = body.units
  return patch
}

/** Adds a unit to a resident's list unless it is already there (the same unit twice is one link). */
export function withUnit(units: readonly ResidentUnitLike[], unit: ResidentUnitLike): ResidentUnitLike[] {
  return units.some((u) => u.unit_id === unit.unit_id) ? [...units] : [...units, unit]
}

/** The export's file name, dated in Beijing time: 业主-2026-11-28.csv. */
export function exportFilename(stem: string, now: Date): string {
  const day = new Date(now.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10)
  return `${stem}-${day}.csv`
}
