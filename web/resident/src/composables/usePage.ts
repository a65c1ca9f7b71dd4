// What every page does on showing: make sure the tenant's branding is loaded, paint the navigation bar (and the
// tab bar) in the tenant's colour, set the title, keep the unread badge current, and send a signed-out person to
// sign in (coming back here afterwards).
import { onShow } from '@dcloudio/uni-app'
import { useApp, type AppContext } from '@/app'
import { goSignIn } from '@/app/nav'

export interface PageOptions {
  title?: () => string
  auth?: 'resident' | 'staff'
  tab?: boolean
}

let brandingOnce: Promise<void> | null = null

export function ensureBranding(app: AppContext): Promise<void> {
  brandingOnce ??= app.tenant.load()
  return brandingOnce
}

export function applyChrome(app: AppContext, title?: string, tab = false): void {
  const primary = app.tenant.primary.value
  uni.setNavigationBarColor({ frontColor: '#ffffff', backgroundColor: primary, fail: () => undefined })
  const name = app.tenant.title.value
  const shown = title || name
  if (shown) uni.setNavigationBarTitle({ title: shown, fail: () => undefined })
  if (tab) uni.setTabBarStyle({ selectedColor: primary, fail: () => undefined } as UniApp.SetTabBarStyleOptions)
  // #ifdef H5
  document.title = title && name ? `${title} - ${name}` : shown
  // #endif
}

export async function refreshUnreadBadge(app: AppContext): Promise<number> {
  if (!app.auth.session.current.value) return 0
  try {
    const { unread_count } = await app.api.get('/v1/me/notifications/unread-count')
    if (unread_count > 0) {
      uni.setTabBarBadge({ index: 2, text: unread_count > 99 ? '99+' : String(unread_count), fail: () => undefined })
    } else {
      uni.removeTabBarBadge({ index: 2, fail: () => undefined })
    }
    return unread_count
  } catch {
    return 0
  }
}

export function usePage(options: PageOptions = {}): AppContext | null {
  const app = useApp()
  onShow(async () => {
    if (!app) return
    if (options.auth === 'resident' && !app.auth.session.current.value) return goSignIn('resident')
    if (options.auth === 'staff' && !app.staffSession.current.value) return goSignIn('staff')
    applyChrome(app, options.title?.(), options.tab)
    await ensureBranding(app)
    applyChrome(app, options.title?.(), options.tab)
    if (options.tab) void refreshUnreadBadge(app)
  })
  return app
}
