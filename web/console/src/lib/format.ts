// Small display helpers shared by the screens (pure; unit-tested where they hold rules).

/** "3分钟" / "2小时" / "4天" since `iso`, in the largest whole unit. */
export function ageParts(iso: string, nowMs: number): { unit: 'm' | 'h' | 'd'; n: number } {
  const minutes = Math.max(0, Math.floor((nowMs - Date.parse(iso)) / 60000))
  if (minutes < 60) return { unit: 'm', n: minutes }
  if (minutes < 1440) return { unit: 'h', n: Math.floor(minutes / 60) }
  return { unit: 'd', n: Math.floor(minutes / 1440) }
}

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>() // one per zone: making one costs a millisecond or more

/** Local date and time for a person: 2026-11-28 09:05. */
export function dateTime(iso: string | null | undefined, timeZone = 'Asia/Shanghai'): string {
  if (!iso) return ''
  let format = dateTimeFormats.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
    })
    dateTimeFormats.set(timeZone, format)
  }
  const parts = format.formatToParts(new Date(iso))
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour') === '24' ? '00' : get('hour')}:${get('minute')}`
}

/** A ticket's location in one line: community + unit label, or the common-area description. */
export function locationLine(
  location: Record<string, unknown> | null | undefined,
  communityNames: Record<string, string> = {},
): string {
  if (!location) return ''
  const community = communityNames[String(location.community_id ?? '')] ?? ''
  const parts = [community, location.label, location.common_area]
  return parts.filter((p) => typeof p === 'string' && p).join(' · ')
}

/** What the search box holds: a ticket number, a mainland mobile number, or a unit. */
export function classifySearch(raw: string): { kind: 'number' | 'phone' | 'unit' | 'empty'; value: string } {
  const value = raw.trim().replace(/[\s-]/g, '')
  if (!value) return { kind: 'empty', value }
  const phone = value.replace(/^\+?86/, '')
  if (/^1[3-9]\d{9}$/.test(phone)) return { kind: 'phone', value: phone }
  if (/^[A-Za-z]?\d{6,14}$/.test(value)) return { kind: 'number', value: value.toUpperCase() }
  return { kind: 'unit', value: raw.trim() }
}
