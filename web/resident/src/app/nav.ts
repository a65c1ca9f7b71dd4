// Moving between pages. Tab pages (home, tickets, messages, me) are opened with switchTab, the rest with
// navigateTo; a lost session sends the person to sign in and brings them back to where they were.
const TABS = ['/pages/index/index', '/pages/tickets/index', '/pages/messages/index', '/pages/me/index']

export function go(url: string): void {
  const path = url.split('?')[0]
  if (TABS.includes(path)) uni.switchTab({ url: path })
  else uni.navigateTo({ url })
}

export function replace(url: string): void {
  const path = url.split('?')[0]
  if (TABS.includes(path)) uni.switchTab({ url: path })
  else uni.redirectTo({ url })
}

export function back(fallback = '/pages/index/index'): void {
  if (getCurrentPages().length > 1) uni.navigateBack({})
  else replace(fallback)
}

/** The page the person is on, as a url to come back to. */
export function here(): string {
  const pages = getCurrentPages()
  const page = pages[pages.length - 1] as unknown as { route?: string; options?: Record<string, string> } | undefined
  if (!page?.route) return '/pages/index/index'
  const query = Object.entries(page.options ?? {}).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')
  return `/${page.route}${query ? `?${query}` : ''}`
}

let leaving = false

/** To the sign-in page (once, however many requests noticed), remembering the page to return to. */
export function goSignIn(who: 'resident' | 'staff', from = here()): void {
  if (leaving) return
  leaving = true
  const target = who === 'staff' ? '/pages/tech/login' : '/pages/login/index'
  if (from.startsWith(target)) {
    leaving = false
    return
  }
  uni.reLaunch({ url: `${target}?redirect=${encodeURIComponent(from)}`, complete: () => (leaving = false) })
}

/** Open ``url`` on top of the tab page ``tab``, so its back arrow leads there (home under a form, 我的工单 under a
 * ticket just filed) rather than to a page the person has finished with. */
export function openAbove(tab: string, url: string): void {
  uni.reLaunch({ url: tab, success: () => uni.navigateTo({ url }) })
}

/** After signing in: back to the remembered page (above home when it is not a tab page), or ``fallback``. */
export function returnTo(url: string | null | undefined, fallback = '/pages/index/index'): void {
  const target = url && url.startsWith('/pages/') ? url : fallback
  const path = target.split('?')[0]
  if (TABS.includes(path)) uni.switchTab({ url: path })
  else if (path.startsWith('/pages/tech/')) uni.reLaunch({ url: target })
  else openAbove('/pages/index/index', target)
}
