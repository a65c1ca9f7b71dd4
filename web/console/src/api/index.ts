// The console's API instance: tokens in localStorage, and a signed-out session reported to the session store.
import { browserTokenStore, createApi } from './client'

export const tokens = browserTokenStore()
let signedOutHandler: () => void = () => {}

export const api = createApi({ tokens, onSignedOut: () => signedOutHandler() })

export function onSignedOut(handler: () => void): void {
  signedOutHandler = handler
}

export type { components, operations, paths } from '@api/schema'
export { ApiError, pollOnce, unwrap } from './client'
