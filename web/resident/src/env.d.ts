/// <reference types="vite/client" />

declare module '*.vue' {
  import { DefineComponent } from 'vue'
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/ban-types
  const component: DefineComponent<{}, {}, any>
  export default component
}

interface ImportMetaEnv {
  /** The mini-program's API address (https://…); H5 uses its own origin. */
  readonly VITE_LINLI_API?: string
  /** The mini-program's tenant when it is launched without a query or scene (a tenant's own mini-program). */
  readonly VITE_LINLI_TENANT?: string
}

declare const process: { env: { UNI_PLATFORM: string; NODE_ENV: string } }
