// A ticket's status as the four steps a resident follows, and the actions shown for what the server allows.
import type { Status } from '@/api/types'

export const STEP_KEYS = ['submitted', 'acknowledged', 'working', 'resolved', 'closed'] as const

/** Which step (0-based) the ticket has reached; cancelled tickets show the step they stopped at as -1. */
export function stepOf(status: Status | string): number {
  switch (status) {
    case 'new':
      return 0
    case 'acknowledged':
      return 1
    case 'assigned':
    case 'in_progress':
    case 'waiting_on_resident':
      return 2
    case 'resolved':
      return 3
    case 'closed':
      return 4
    default:
      return -1
  }
}

/** The resident's actions, in the order they are offered, that the server lists for this ticket. */
export const RESIDENT_ACTIONS = ['approve_quote', 'decline_quote', 'resume', 'confirm', 'rate', 'reopen', 'cancel'] as const
export type ResidentAction = (typeof RESIDENT_ACTIONS)[number]

export function residentActions(allowed: readonly string[]): ResidentAction[] {
  return RESIDENT_ACTIONS.filter((a) => allowed.includes(a))
}

/** A technician's actions on a job, in the order of the work. */
export const FIELD_ACTIONS = ['grab', 'start', 'arrive', 'resolve', 'wait_on_resident', 'resume', 'return'] as const
export type FieldAction = (typeof FIELD_ACTIONS)[number]

export function fieldActions(allowed: readonly string[]): FieldAction[] {
  return FIELD_ACTIONS.filter((a) => allowed.includes(a))
}

const PRIORITY_ORDER: Record<string, number> = { P1: 0, P2: 1, P3: 2, P4: 3 }

interface Job {
  priority: string
  sla?: { [key: string]: unknown }[]
  created_at: string
}

/** The next deadline of a job's running clocks (ms since epoch), or null. */
export function nextDue(job: Job): number | null {
  const dues = (job.sla ?? [])
    .filter((c) => !c.met_at && c.state !== 'met' && c.state !== 'paused' && typeof c.due_at === 'string')
    .map((c) => Date.parse(c.due_at as string))
  return dues.length ? Math.min(...dues) : null
}

/** Most urgent first: priority, then the nearest deadline, then the oldest. */
export function byUrgency<T extends Job>(jobs: T[]): T[] {
  return [...jobs].sort((a, b) =>
    (PRIORITY_ORDER[a.priority] ?? 9) - (PRIORITY_ORDER[b.priority] ?? 9) ||
    (nextDue(a) ?? Infinity) - (nextDue(b) ?? Infinity) ||
    a.created_at.localeCompare(b.created_at))
}
