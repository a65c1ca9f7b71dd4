// Which tenant (and community) the app was opened for. H5: the address /r/<slug>/?c=<community_id> (one build
// serves every tenant); the mini-program: the launch query (?t=<slug>&c=<community_id>) or a QR code's scene
// ("t=<slug>&c=<community_id>", or just the slug).
export interface Entry {
  slug: string
  communityId: string | null
}

const SLUG = /^[a-z0-9][a-z0-9-]{1,39}$/

function parseQuery(search: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue
    const [k, v = ''] = part.split('=')
    try {
      out[decodeURIComponent(k)] = decodeURIComponent(v.replace(/\+/g, ' '))
    } catch {
      // a malformed pair is ignored, as a browser would
    }
  }
  return out
}

/** The tenant from an H5 address: /r/<slug>/…; ``?t=<slug>`` stands in when the page is not under /r/ (npm run
 * dev:h5). */
export function entryFromAddress(pathname: string, search: string): Entry | null {
  const query = parseQuery(search)
  const match = /^\/r\/([^/]+)(\/|$)/.exec(pathname)
  const slug = match ? match[1] : query.t
  if (!slug || !SLUG.test(slug)) return null
  return { slug, communityId: query.c || null }
}

/** The tenant from the mini-program's launch options: a query (t, c) or a QR code's ``scene``. */
export function entryFromLaunch(query: Record<string, string | undefined> | undefined): Entry | null {
  const q = query ?? {}
  let fields: Record<string, string | undefined> = q
  if (q.scene) {
    const scene = decodeURIComponent(q.scene)
    fields = scene.includes('=') ? parseQuery(scene) : { t: scene }
  }
  const slug = fields.t ?? fields.slug
  if (!slug || !SLUG.test(slug)) return null
  return { slug, communityId: fields.c || null }
}
