// Every string a person reads goes through t(): 简体中文 now; another language is another messages file.
import { zhCN, type Messages } from './zh-CN'

const messages: Messages = zhCN

type Leaves<T, P extends string = ''> = {
  [K in keyof T & string]: T[K] extends string ? `${P}${K}` : Leaves<T[K], `${P}${K}.`>
}[keyof T & string]

export type MessageKey = Leaves<Messages>

export function t(key: MessageKey | string, params: Record<string, string | number> = {}): string {
  let node: unknown = messages
  for (const part of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[part]
  if (typeof node !== 'string') return key
  return node.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`))
}
