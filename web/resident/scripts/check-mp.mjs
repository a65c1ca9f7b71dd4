// After `npm run build:mp-weixin`: every page of the app (src/pages.json, the same list the H5 build routes) is
// in the mini-program's app.json with its four files, the tab bar is there, and no JavaScript of the bundle
// touches a browser-only global (window., document., localStorage., fetch(…), FormData…): the H5 branches of the
// platform adapter were compiled out. Exits 1 with the reasons when anything is off. The build checked is
// dist/build/mp-weixin, or the folder given as the first argument (`make package` builds into out/mp-weixin).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const out = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist/build/mp-weixin')
const problems = []

const stripComments = (text) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
const pagesJson = JSON.parse(stripComments(readFileSync(join(root, 'src/pages.json'), 'utf8')))
const pages = pagesJson.pages.map((p) => p.path)

if (!existsSync(join(out, 'app.json'))) {
  console.error(`no mini-program build at ${out}: run npm run build:mp-weixin first`)
  process.exit(1)
}
const app = JSON.parse(readFileSync(join(out, 'app.json'), 'utf8'))
for (const page of pages) {
  if (!app.pages.includes(page)) problems.push(`app.json lacks the page ${page}`)
  for (const ext of ['js', 'json', 'wxml', 'wxss']) {
    if (!existsSync(join(out, `${page}.${ext}`))) problems.push(`${page}.${ext} is missing`)
  }
}
const tabs = (pagesJson.tabBar?.list ?? []).map((t) => t.pagePath)
const builtTabs = (app.tabBar?.list ?? []).map((t) => t.pagePath)
if (tabs.join() !== builtTabs.join()) problems.push(`tab bar ${builtTabs} is not ${tabs}`)

const WEB_ONLY = /\b(?:window|document|localStorage|sessionStorage|navigator)\s*[.[]|\b(?:fetch|FormData|createImageBitmap|Blob)\s*\(|URL\.createObjectURL/g
function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else if (name.endsWith('.js')) yield path
  }
}
let scanned = 0
for (const file of files(out)) {
  scanned++
  const found = readFileSync(file, 'utf8').match(WEB_ONLY)
  if (found) problems.push(`${file.slice(out.length + 1)} uses ${[...new Set(found)].join(', ')}`)
}

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`mini-program build ok: ${pages.length} pages in app.json, ${scanned} scripts free of browser-only globals`)
