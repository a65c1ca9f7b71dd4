// The tenant's public branding, read at run time: name, logo, primary colour, service phone, notice line, page
// title, the resident-visible ticket kinds. Kept in storage so the next visit paints in the tenant's colours before
// the answer arrives.
import { computed, reactive } from 'vue'
import type { Branding, TicketKind } from '@/api/types'
import type { Api } from '@/platform/http'
import type { Storage } from '@/platform/uni'

export const DEFAULT_PRIMARY = '#1677FF'

/** A colour safe to put into a style attribute (#rgb, #rrggbb or #rrggbbaa); anything else falls back. */
export function safeColor(value: string | null | undefined, fallback = DEFAULT_PRIMARY): string {
  return value && /^#([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(value) ? value : fallback
}

export function createTenantStore(api: Api, storage: Storage, slug: string) {
  const key = `linli.${slug}.branding`
  const state = reactive({ branding: storage.get<Branding>(key), loading: false, failed: false })

  async function load(): Promise<void> {
    state.loading = true
    try {
      const branding = await api.get('/v1/public/tenants/{slug}/branding', { params: { path: { slug } } })
      state.branding = branding
      state.failed = false
      storage.set(key, branding)
    } catch {
      state.failed = true
    } finally {
      state.loading = false
    }
  }

  const primary = computed(() => safeColor(state.branding?.primary_color))
  const kinds = computed<TicketKind[]>(() => (state.branding?.ticket_kinds ?? []).filter((k) => k.resident_visible !== false))

  return {
    state,
    load,
    primary,
    kinds,
    name: computed(() => state.branding?.name ?? ''),
    /** The title the tenant chose for its page (the name when it chose none). */
    title: computed(() => state.branding?.page_title || state.branding?.name || ''),
    notice: computed(() => state.branding?.notice ?? null),
    phone: computed(() => state.branding?.contact_phone ?? null),
    kind: (key: string) => kinds.value.find((k) => k.key === key) ?? null,
  }
}

export type TenantStore = ReturnType<typeof createTenantStore>
