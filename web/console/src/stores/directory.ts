// Names the screens show instead of ids: communities, staff, ticket kinds and categories. Loaded once per session
// (a tenant has tens of communities and staff, not thousands) and refreshed when a settings screen changes them.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { api, unwrap, type components } from '@/api'
import { allPages } from '@/lib/people/places'
import { useSession } from './session'

type Community = components['schemas']['CommunityOut']
type Staff = components['schemas']['StaffOut']
type Kind = components['schemas']['TicketKind']

export const useDirectory = defineStore('directory', () => {
  const session = useSession()
  const communities = ref<Community[]>([])
  const staff = ref<Staff[]>([])
  const loaded = ref(false)
  const { locale } = useI18n({ useScope: 'global' })

  const kinds = computed<Kind[]>(() => session.tenant?.ticket_kinds ?? [])
  const communityNames = computed(() => Object.fromEntries(communities.value.map((c) => [c.id, c.name])))
  const staffNames = computed(() => Object.fromEntries(staff.value.map((s) => [s.id, s.name])))

  function kindName(key: string | null | undefined): string {
    const kind = kinds.value.find((k) => k.key === key)
    if (!kind) return key ?? ''
    return (locale.value === 'en' && kind.name_en) || kind.name
  }

  function categoriesOf(key: string | null | undefined): string[] {
    return (kinds.value.find((k) => k.key === key)?.categories as string[] | undefined) ?? []
  }

  async function load(force = false): Promise<void> {
    if (loaded.value && !force) return
    const jobs: Promise<unknown>[] = [
      allPages((cursor) => unwrap(api.GET('/v1/communities', { params: { query: { limit: 100, cursor } } })))
        .then((items) => (communities.value = items)),
    ]
    if (session.can('staff:read')) {
      jobs.push(allPages((cursor) => unwrap(api.GET('/v1/staff', { params: { query: { limit: 100, cursor } } })))
        .then((items) => (staff.value = items)))
    }
    await Promise.all(jobs)
    loaded.value = true
  }

  return { communities, staff, kinds, communityNames, staffNames, kindName, categoriesOf, load }
})
