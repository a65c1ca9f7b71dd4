// Wiring, once per launch: the tenant from the entry point, its storage keys, the two API clients (a resident's
// session and a technician's are separate), and the stores the pages use. Pages call useApp(), never uni.*.
import { entryFromAddress, entryFromLaunch, type Entry } from '@/lib/entry'
import { newApi, storage } from '@/platform'
import { createResidentAuth, type ResidentSession } from '@/stores/auth'
import { createPrefs } from '@/stores/prefs'
import { createSessionStore } from '@/stores/session'
import { createTenantStore } from '@/stores/tenant'
import type { Tokens } from '@/platform/http'
import { goSignIn } from './nav'

export interface StaffSession extends Tokens {
  email: string
  tenant_slug: string
}

const LAST_ENTRY = 'linli.entry'
let entry: Entry | null = null

/** The mini-program's launch options decide the tenant (App.vue's onLaunch). */
export function enterFromLaunch(query: Record<string, string | undefined> | undefined): void {
  const found = entryFromLaunch(query)
  if (found) {
    entry = found
    storage.set(LAST_ENTRY, found)
  }
}

export function currentEntry(): Entry | null {
  if (entry) return entry
  // #ifdef H5
  entry = entryFromAddress(location.pathname, location.search)
  // #endif
  // #ifdef MP-WEIXIN
  entry = storage.get<Entry>(LAST_ENTRY) ??
    (import.meta.env.VITE_LINLI_TENANT ? { slug: import.meta.env.VITE_LINLI_TENANT, communityId: null } : null)
  // #endif
  return entry
}

function build(slug: string) {
  const residentSession = createSessionStore<ResidentSession>(storage, `linli.${slug}.resident`)
  const staffSession = createSessionStore<StaffSession>(storage, `linli.${slug}.staff`)
  const residentApi = newApi({
    tokens: residentSession.tokens,
    refreshPath: () => `/v1/public/tenants/${slug}/refresh`,
    onSignedOut: () => goSignIn('resident'),
  })
  const staffApi = newApi({
    tokens: staffSession.tokens,
    refreshPath: () => '/v1/auth/refresh',
    onSignedOut: () => goSignIn('staff'),
  })
  const auth = createResidentAuth({ api: residentApi, session: residentSession, storage, slug })
  return {
    slug,
    communityId: currentEntry()?.communityId ?? null,
    api: residentApi,
    staffApi,
    auth,
    staffSession,
    tenant: createTenantStore(residentApi, storage, slug),
    prefs: createPrefs(storage),
    storage,
  }
}

export type AppContext = ReturnType<typeof build>
let context: AppContext | null = null

/** The app's stores for the current tenant, or null when the page was opened without one. */
export function useApp(): AppContext | null {
  const found = currentEntry()
  if (!found) return null
  if (!context || context.slug !== found.slug) context = build(found.slug)
  return context
}
