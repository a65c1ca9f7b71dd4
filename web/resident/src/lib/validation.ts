// The form rules the API enforces, checked on the phone first so a resident sees the problem before sending.
import type { Location, TicketIn, VisitWindow } from '@/api/types'
import { MAX_PHOTOS } from '@/platform/images'

/** A mainland mobile number as the API reads it: spaces, hyphens and brackets dropped, 11 digits 13x–19x. */
export function normalisePhone(raw: string): string {
  return raw.replace(/[\s\-()（）]/g, '').replace(/^\+?86/, '')
}

export function isPhone(raw: string): boolean {
  return /^1[3-9]\d{9}$/.test(normalisePhone(raw))
}

export function isCode(raw: string): boolean {
  return /^\d{6}$/.test(raw.trim())
}

export const DESCRIPTION_MIN = 2
export const DESCRIPTION_MAX = 2000
export const COMMON_AREA_MAX = 100

export interface ReportDraft {
  kind: string
  category: string | null
  communityId: string | null
  unitId: string | null
  commonArea: string
  place: 'unit' | 'common'
  description: string
  photos: string[]
  visit: VisitWindow | null
}

export type ReportErrors = Partial<Record<'kind' | 'place' | 'description' | 'photos' | 'visit', string>>

/** What is missing or wrong, as message keys by field; empty when the draft can be sent. */
export function validateReport(draft: ReportDraft, options: { photoRequired?: boolean } = {}): ReportErrors {
  const errors: ReportErrors = {}
  if (!draft.kind) errors.kind = 'report.needKind'
  if (!draft.communityId) errors.place = 'report.needCommunity'
  else if (draft.place === 'unit' && !draft.unitId) errors.place = 'report.needUnit'
  else if (draft.place === 'common' && !draft.commonArea.trim()) errors.place = 'report.needCommonArea'
  else if (draft.place === 'common' && draft.commonArea.trim().length > COMMON_AREA_MAX) errors.place = 'report.commonAreaTooLong'
  const description = draft.description.trim()
  if (description.length < DESCRIPTION_MIN) errors.description = 'report.needDescription'
  else if (description.length > DESCRIPTION_MAX) errors.description = 'report.descriptionTooLong'
  if (draft.photos.length > MAX_PHOTOS) errors.photos = 'report.tooManyPhotos'
  else if (options.photoRequired && draft.photos.length === 0) errors.photos = 'report.needPhoto'
  if (draft.visit && Date.parse(draft.visit.end) <= Date.parse(draft.visit.start)) errors.visit = 'report.badVisit'
  return errors
}

/** The API body for a valid draft. */
export function ticketBody(draft: ReportDraft, channel: 'h5' | 'mini_program'): TicketIn {
  const location = (draft.place === 'unit'
    ? { community_id: draft.communityId!, unit_id: draft.unitId! }
    : { community_id: draft.communityId!, common_area: draft.commonArea.trim() }) as Location
  return {
    kind: draft.kind,
    category: draft.category,
    description: draft.description.trim(),
    location,
    attachments: draft.photos,
    preferred_visit: draft.visit,
    channel,
  }
}

export interface VisitSlot {
  key: 'morning' | 'afternoon' | 'evening'
  from: number
  to: number
}

export const VISIT_SLOTS: VisitSlot[] = [
  { key: 'morning', from: 9, to: 12 },
  { key: 'afternoon', from: 14, to: 18 },
  { key: 'evening', from: 18, to: 21 },
]

/** A preferred visit window ``dayOffset`` days from ``now`` (local time) in ``slot``; null when it has passed. */
export function visitWindow(now: Date, dayOffset: number, slot: VisitSlot): VisitWindow | null {
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate() + dayOffset, slot.from)
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + dayOffset, slot.to)
  if (end.getTime() <= now.getTime()) return null
  return { start: start.toISOString(), end: end.toISOString() }
}

/** A fresh Idempotency-Key for one form: a double tap or a retry after a lost answer files one ticket. */
export function newIdempotencyKey(random: () => number = Math.random): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('')
  return `r-${Date.now().toString(36)}-${hex(16)}`
}
