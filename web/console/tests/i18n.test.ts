import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { messages } from '../src/i18n'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [prefix + k] : keys(v, `${prefix}${k}.`)))
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : /\.(vue|ts)$/.test(name) ? [path] : []
  })
}

const zh = keys(messages['zh-CN'] as unknown as Tree)
const en = keys(messages.en as unknown as Tree)

describe('the console strings', () => {
  it('has every zh-CN key in English and every English key in zh-CN', () => {
    expect(zh.filter((k) => !en.includes(k))).toEqual([])
    expect(en.filter((k) => !zh.includes(k))).toEqual([])
  })

  it('has no empty string', () => {
    const empty = (tree: Tree, locale: string) => keys(tree).filter((k) => k.split('.').reduce<unknown>((n, p) => (n as Tree)[p], tree) === '')
    expect(empty(messages['zh-CN'] as unknown as Tree, 'zh-CN')).toEqual([])
    expect(empty(messages.en as unknown as Tree, 'en')).toEqual([])
  })

  it('defines every literal key the screens ask for', () => {
    const used = new Set<string>()
    for (const file of sources(join(__dirname, '../src'))) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) used.add(match[1])
    }
    expect(used.size).toBeGreaterThan(50)
    expect([...used].filter((k) => !zh.includes(k))).toEqual([])
  })

  it('uses the same placeholders in both languages', () => {
    const at = (tree: Tree, key: string) => key.split('.').reduce<unknown>((n, p) => (n as Tree)[p], tree) as string
    const names = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    const different = zh.filter((k) => JSON.stringify(names(at(messages['zh-CN'] as unknown as Tree, k))) !==
      JSON.stringify(names(at(messages.en as unknown as Tree, k))))
    expect(different).toEqual([])
  })
})
