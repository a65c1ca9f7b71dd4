import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { api, onSignedOut, tokens, unwrap } from '@/api'
import type { components } from '@/api'

export type Me = components['schemas']['StaffMeOut']
export type Tenant = components['schemas']['TenantOut']

const SLUG_KEY = 'linli.console.slug'

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const tenant = shallowRef<Tenant | null>(null)
  const slug = ref(localStorage.getItem(SLUG_KEY) ?? '')
  /** The session ended while the person was working: a sign-in dialog opens over the page, keeping its state. */
  const reauthNeeded = ref(false)

  const signedIn = computed(() => me.value !== null)
  const permissions = computed(() => new Set<string>(me.value?.permissions ?? []))
  /** The tenant's time zone (its days are what reports and dates count in). */
  const timezone = computed(() => tenant.value?.timezone || 'Asia/Shanghai')

  function can(permission: string | undefined | null): boolean {
    return !permission || permissions.value.has(permission)
  }

  onSignedOut(() => {
    if (me.value) reauthNeeded.value = true
  })

  async function login(tenantSlug: string, email: string, password: string): Promise<void> {
    const body = await unwrap(api.POST('/v1/auth/login', { body: { tenant_slug: tenantSlug, email, password } }))
    tokens.set({ access_token: body.access_token, refresh_token: body.refresh_token })
    slug.value = tenantSlug
    localStorage.setItem(SLUG_KEY, tenantSlug)
    reauthNeeded.value = false
    await load()
  }

  /** Who is signed in and their tenant's configuration (kinds, branding, SLA policies…). */
  async function load(): Promise<boolean> {
    if (!tokens.get()) return false
    try {
      const [who, config] = await Promise.all([unwrap(api.GET('/v1/me')), unwrap(api.GET('/v1/tenant'))])
      me.value = who as Me
      tenant.value = config as Tenant
      return true
    } catch {
      return false
    }
  }

  async function reloadTenant(): Promise<void> {
    tenant.value = (await unwrap(api.GET("/v1/tenant"))) as Tenant
  }

  async function logout(): Promise<void> {
    const current = tokens.get()
    if (current) {
      await api.POST('/v1/auth/logout', { body: { refresh_token: current.refresh_token } }).catch(() => undefined)
    }
    tokens.clear()
    me.value = null
    tenant.value = null
  }

  return { me, tenant, slug, reauthNeeded, signedIn, permissions, timezone, can, login, load, reloadTenant, logout }
})
