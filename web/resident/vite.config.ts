import { fileURLToPath, URL } from 'node:url'
import uni from '@dcloudio/vite-plugin-uni'
import { defineConfig, type Plugin } from 'vite'

/** The H5 page asks no third party for anything: uni's page-head shadow preloads an image from DCloud's CDN and
 * the component library's icon font names a CDN copy before the bundled one; both are dropped from the CSS (the
 * bundled font stays). */
function noThirdPartyAssets(): Plugin {
  const remote = [
    /url\(["']?https:\/\/cdn\.dcloud\.net\.cn\/[^)]*\)/g,
    /url\(["']?https:\/\/at\.alicdn\.com\/[^)]*\)\s*format\([^)]*\)\s*,?/g,
  ]
  return {
    name: 'linli:no-third-party-assets',
    enforce: 'post',
    apply: () => process.env.UNI_PLATFORM === 'h5',
    generateBundle(_, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.endsWith('.css')) continue
        let css = String(file.source)
        css = css.replace(remote[0], 'none').replace(remote[1], '')
        file.source = css
      }
    },
  }
}

// One build serves every tenant: the H5 lives under /r/<slug>/ (devstack/web.py locally, CloudFront in AWS both map
// /r/<slug>/x to the build's x), so asset URLs are relative (manifest.json: h5.router.base "./", hash routes) and
// the tenant is read from the address at run time. The mini-program is the same sources built with -p mp-weixin.
export default defineConfig({
  plugins: [uni(), noThirdPartyAssets()],
  resolve: {
    alias: { '@api': fileURLToPath(new URL('../api', import.meta.url)) },
  },
  server: {
    // `npm run dev:h5` against `make run`'s API on :8000
    proxy: { '/v1': 'http://127.0.0.1:8000' },
  },
  build: {
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
  },
})
