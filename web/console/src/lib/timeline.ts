// The ticket timeline in sentences a person reads ("首次响应计时暂停：等待业主回复"), from the staff event list:
// the audit record of every change plus the SLA ledger. Pure (tested in tests/timeline.test.ts); `t` is vue-i18n's.

export interface TimelineEvent {
  id: string
  type: string
  occurred_at: string
  actor: Record<string, unknown>
  changes: Record<string, unknown>
  data: Record<string, unknown>
}

export interface Line {
  id: string
  at: string
  who: string
  text: string
  tone: 'primary' | 'success' | 'warning' | 'danger' | 'info'
  sla: boolean
}

type T = (key: string, values?: Record<string, unknown>) => string

/** The English reasons the SLA ledger records (sla/domain.py, tickets/sla_effects.py) → i18n keys. */
const PAUSE_REASONS: Record<string, string> = {
  'waiting on the resident': 'waiting_on_resident',
  'outside business hours': 'outside_hours',
}

export function duration(seconds: number | null | undefined, t: T): string {
  if (seconds == null) return ''
  const minutes = Math.round(seconds / 60)
  if (minutes >= 1440 && minutes % 1440 === 0) return t('sla.duration.d', { n: minutes / 1440 })
  if (minutes >= 60) {
    const h = Math.floor(minutes / 60)
    const m = minutes % 60
    return m ? `${t('sla.duration.h', { n: h })}${t('sla.duration.m', { n: m })}` : t('sla.duration.h', { n: h })
  }
  return t('sla.duration.m', { n: minutes })
}

function slaLine(event: TimelineEvent, t: T): { text: string; tone: Line['tone'] } {
  const kind = event.type.slice(4)
  const d = event.data
  const clock = t(`sla.clock.${String(d.clock ?? '')}`)
  const reasonKey = PAUSE_REASONS[String(d.reason ?? '')]
  const reason = reasonKey ? t(`desk.event.pauseReasons.${reasonKey}`) : String(d.reason ?? t('desk.event.pauseReasons.default'))
  const share = typeof d.reason === 'string' && /\d+%/.test(d.reason) ? (d.reason.match(/\d+%/) as RegExpMatchArray)[0] : ''
  const text = t(`desk.event.sla.${kind}`, {
    clock, reason, share, target: duration(d.target_seconds as number, t), who: String(d.notify ?? ''),
  })
  const tone: Line['tone'] = kind === 'breached' || kind === 'escalated' ? 'danger'
    : kind === 'warning' ? 'warning' : kind === 'met' ? (d.late ? 'warning' : 'success') : 'info'
  return { text, tone }
}

export function actorName(actor: Record<string, unknown>, staffNames: Record<string, string>, t: T): string {
  const kind = String(actor.type ?? actor.kind ?? 'system')
  const id = String(actor.id ?? '')
  if (kind === 'staff') return staffNames[id] ?? String(actor.name ?? t('desk.event.actor.staff'))
  if (kind === 'resident') return String(actor.name ?? t('desk.event.actor.resident'))
  if (kind === 'api_key') return t('desk.event.actor.api_key')
  return t('desk.event.actor.system')
}

export function toLines(events: TimelineEvent[], staffNames: Record<string, string>, t: T): Line[] {
  return events.map((event) => {
    if (event.type.startsWith('sla.')) {
      // the clock's own entries: whoever's action moved it, the sentence says what the clock did
      const who = t('desk.event.actor.system')
      const { text, tone } = slaLine(event, t)
      return { id: event.id, at: event.occurred_at, who, text, tone, sla: true }
    }
    const who = actorName(event.actor, staffNames, t)
    // changes are {field: {before, after}} (core/changes.py)
    const after = (field: string) => (event.changes[field] as { after?: unknown } | undefined)?.after
    const data = event.data ?? {}
    const status = (after('status') ?? data.status) as string | undefined
    const assignee = String(after('assignee_id') ?? data.assignee_id ?? '')
    const key = `desk.event.types.${event.type.replace(".", "_")}`
    const values = {
      type: event.type,
      status: status ? t(`status.${status}`) : '',
      assignee: staffNames[assignee] ?? assignee,
      visibility: data.visibility === 'internal' ? t('desk.internal') : t('desk.public'),
      price: data.price ?? (after('quote') as { price?: unknown } | undefined)?.price ?? '',
      score: data.score ?? '',
      outcome: data.outcome ? t(`desk.dialog.outcomes.${String(data.outcome)}`) : '',
    }
    let text = t(key, values)
    if (text === key) text = t('desk.event.types.default', values)
    const tone: Line['tone'] = event.type === 'ticket.resolved' || event.type === 'ticket.closed' ? 'success'
      : event.type === 'ticket.reopened' || event.type === 'ticket.cancelled' ? 'warning' : 'primary'
    return { id: event.id, at: event.occurred_at, who, text, tone, sla: false }
  })
}
