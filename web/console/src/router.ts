import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { tokens } from '@/api'
import { useSession } from '@/stores/session'

// `meta.permission`: the permission a route needs (from /v1/me). The menu hides what the role cannot open; a
// typed URL shows the "no access" page, and the server answers 403 anyway. Each screen is its own chunk, so the
// sign-in and queue routes load only what they use.
declare module 'vue-router' {
  interface RouteMeta {
    permission?: string
    public?: boolean
    title?: string
  }
}

const settings = (path: string, name: string, permission: string, load: () => Promise<unknown>): RouteRecordRaw => ({
  path: `settings/${path}`, name, component: load as never, meta: { permission, title: `nav.${name}` },
})

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('@/layouts/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: { name: 'queue' } },
      { path: 'queue', name: 'queue', component: () => import('@/views/QueueView.vue'), meta: { permission: 'tickets:read', title: 'nav.queue' } },
      { path: 'tickets/:id', name: 'ticket', component: () => import('@/views/TicketDesk.vue'), meta: { permission: 'tickets:read', title: 'nav.queue' } },
      { path: 'intake', name: 'intake', component: () => import('@/views/IntakeView.vue'), meta: { permission: 'residents:read', title: 'nav.intake' } },
      { path: 'places', name: 'places', component: () => import('@/views/PlacesView.vue'), meta: { permission: 'communities:read', title: 'nav.places' } },
      { path: 'residents', name: 'residents', component: () => import('@/views/ResidentsView.vue'), meta: { permission: 'residents:read', title: 'nav.residents' } },
      { path: 'reports', name: 'reports', component: () => import('@/views/ReportsView.vue'), meta: { permission: 'reports:read', title: 'nav.reports' } },
      { path: 'imports', name: 'imports', component: () => import('@/views/ImportsView.vue'), meta: { permission: 'residents:write', title: 'nav.imports' } },
      settings('branding', 'branding', 'tenant:write', () => import('@/views/settings/BrandingSettings.vue')),
      settings('kinds', 'kinds', 'tenant:write', () => import('@/views/settings/KindsSettings.vue')),
      settings('sla', 'sla', 'tenant:write', () => import('@/views/settings/SlaSettings.vue')),
      settings('teams', 'teams', 'tenant:write', () => import('@/views/settings/TeamsSettings.vue')),
      settings('notifications', 'notifications', 'tenant:write', () => import('@/views/settings/NotificationSettings.vue')),
      settings('staff', 'staff', 'staff:write', () => import('@/views/settings/StaffSettings.vue')),
      settings('api-keys', 'apiKeys', 'api_keys:manage', () => import('@/views/settings/ApiKeysSettings.vue')),
      settings('webhooks', 'webhooks', 'webhooks:manage', () => import('@/views/settings/WebhooksSettings.vue')),
      settings('canned-replies', 'cannedReplies', 'canned_replies:write', () => import('@/views/settings/CannedRepliesSettings.vue')),
      { path: 'forbidden', name: 'forbidden', component: () => import('@/views/ForbiddenView.vue') },
      { path: ':pathMatch(.*)*', redirect: { name: 'queue' } },
    ],
  },
]

export const router = createRouter({ history: createWebHistory('/console/'), routes })

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  const session = useSession()
  if (!session.signedIn) {
    // fetch the screen's code while /v1/me and /v1/tenant are on their way, not after
    for (const record of to.matched) {
      const load = record.components?.default
      if (typeof load === 'function') (load as () => Promise<unknown>)()
    }
    if (!tokens.get() || !(await session.load())) {
      return { name: 'login', query: to.fullPath !== '/queue' ? { next: to.fullPath } : {} }
    }
  }
  if (!session.can(to.meta.permission)) return { name: 'forbidden', query: { from: to.fullPath } }
  return true
})
