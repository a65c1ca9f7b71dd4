// A signed-in session (a resident's or a technician's) kept in storage, and the TokenStore the API client renews
// it through. Keys are per tenant: two tenants' pages share one origin (/r/a/ and /r/b/) and so one storage.
import { computed, shallowRef } from 'vue'
import type { Storage } from '@/platform/uni'
import type { TokenStore, Tokens } from '@/platform/http'

export function createSessionStore<S extends Tokens>(storage: Storage, key: string) {
  const current = shallowRef<S | null>(storage.get<S>(key))

  function save(next: S | null): void {
    current.value = next
    if (next) storage.set(key, next)
    else storage.remove(key)
  }

  const tokens: TokenStore = {
    get: () => current.value,
    set: (renewed) => save({ ...(current.value as S), ...renewed }),
    clear: () => save(null),
  }

  return {
    current,
    tokens,
    signedIn: computed(() => current.value !== null),
    signIn: (session: S) => save(session),
    update: (patch: Partial<S>) => current.value && save({ ...current.value, ...patch }),
    signOut: () => save(null),
  }
}

export type SessionStore<S extends Tokens> = ReturnType<typeof createSessionStore<S>>
