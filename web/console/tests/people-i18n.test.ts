import { describe, expect, it } from 'vitest'
import en from '@/i18n/people.en'
import zh from '@/i18n/people.zh-CN'

function keys(value: unknown, prefix = ''): string[] {
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
  return [prefix]
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
}

function at(tree: unknown, key: string): string {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], tree) as string
}

describe('people strings', () => {
  it('has every key in both locales', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort())
  })
  it('uses the same placeholders in both', () => {
    for (const key of keys(zh)) expect(placeholders(at(en, key)), key).toEqual(placeholders(at(zh, key)))
  })
  it('names every column, row-error code and failure the imports API documents', () => {
    for (const field of ['community', 'building', 'entrance', 'number', 'name', 'phone', 'relation']) expect(zh.imports.columns).toHaveProperty(field)
    for (const code of ['required', 'too_long', 'invalid', 'unknown_community', 'too_many_units', 'conflict']) expect(zh.imports.codes).toHaveProperty(code)
    for (const code of ['unreadable_file', 'empty_file', 'missing_columns', 'too_many_rows', 'file_gone']) expect(zh.imports.failures).toHaveProperty(code)
  })
})
