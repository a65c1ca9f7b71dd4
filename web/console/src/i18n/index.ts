import { createI18n } from 'vue-i18n'
import en from './en'
import peopleEn from './people.en'
import peopleZh from './people.zh-CN'
import reportsEn from './reports.en'
import reportsZh from './reports.zh-CN'
import settingsEn from './settings.en'
import settingsZh from './settings.zh-CN'
import zhCN from './zh-CN'

export type Locale = 'zh-CN' | 'en'
export const LOCALE_KEY = 'linli.console.locale'

/** Every string of each locale: the desk's, the places/residents/imports screens', the settings screens', the
 * reports dashboard's. */
export const messages = {
  'zh-CN': { ...zhCN, ...peopleZh, settings: settingsZh, reports: reportsZh },
  en: { ...en, ...peopleEn, settings: settingsEn, reports: reportsEn },
}

export function initialLocale(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(LOCALE_KEY) : null
  return saved === 'en' ? 'en' : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
  missingWarn: false,
  fallbackWarn: false,
})

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  localStorage.setItem(LOCALE_KEY, locale)
  document.documentElement.lang = locale
}
