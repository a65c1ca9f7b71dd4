// The tenant-configuration screens' one way to read and save: a fresh GET /v1/tenant, a merge patch sent with
// If-Match, and the answers a person must see: 412 (someone else saved meanwhile: reload and say so), 422 (field
// errors next to the form, every line in an alert above it), anything else as a message. After a save the
// session's copy is reloaded, so the rest of the console (kinds, branding in the sidebar) follows at once.
import { ElMessage, ElMessageBox } from 'element-plus'
import { computed, onBeforeUnmount, onMounted, ref, shallowRef, type Ref } from 'vue'
import { onBeforeRouteLeave } from 'vue-router'
import { useI18n } from 'vue-i18n'
import { ApiError } from '@/api/client'
import { api, unwrap, type components } from '@/api'
import { showError } from '@/lib/errors'
import { useSession } from '@/stores/session'
import { detailLines } from './validation'

export type Tenant = components['schemas']['TenantOut']
export type TenantPatch = components['schemas']['TenantPatch']

export function useTenantSettings(fill: (tenant: Tenant) => void) {
  const { t } = useI18n()
  const session = useSession()
  const tenant = shallowRef<Tenant | null>(null)
  const loading = ref(false)
  const saving = ref(false)
  const fieldErrors = ref<Record<string, string>>({})
  const formErrors = ref<string[]>([])

  function clearErrors() {
    fieldErrors.value = {}
    formErrors.value = []
  }

  async function load(): Promise<void> {
    loading.value = true
    try {
      const fresh = (await unwrap(api.GET('/v1/tenant'))) as Tenant
      tenant.value = fresh
      fill(fresh)
    } catch (err) {
      showError(err)
    } finally {
      loading.value = false
    }
  }

  /** Send one merge patch; true when saved. `successKey` is the i18n key of the confirmation. */
  async function save(patch: TenantPatch, successKey = 'settings.common.saved'): Promise<boolean> {
    if (!tenant.value) return false
    saving.value = true
    clearErrors()
    try {
      const updated = (await unwrap(api.PATCH('/v1/tenant', { body: patch, headers: { 'If-Match': String(tenant.value.version) } }))) as Tenant
      tenant.value = updated
      fill(updated)
      ElMessage.success(t(successKey))
      session.reloadTenant().catch(() => undefined)
      return true
    } catch (err) {
      if (err instanceof ApiError && err.isStale) {
        ElMessage.warning({ message: t('settings.common.stale'), duration: 6000 })
        await load()
      } else if (err instanceof ApiError && err.status === 422) {
        fieldErrors.value = err.fieldErrors()
        const lines = detailLines(err.details)
        formErrors.value = lines.length ? lines : [err.message]
      } else {
        showError(err)
      }
      return false
    } finally {
      saving.value = false
    }
  }

  onMounted(load)
  return { tenant, loading, saving, fieldErrors, formErrors, load, save, clearErrors }
}

/** Ask before leaving a screen with unsaved changes (route change or closing the tab). */
export function useLeaveGuard(dirty: Ref<boolean>) {
  const { t } = useI18n()
  const beforeUnload = (event: BeforeUnloadEvent) => {
    if (dirty.value) event.preventDefault()
  }
  onMounted(() => window.addEventListener('beforeunload', beforeUnload))
  onBeforeUnmount(() => window.removeEventListener('beforeunload', beforeUnload))
  onBeforeRouteLeave(async () => {
    if (!dirty.value) return true
    try {
      await ElMessageBox.confirm(t('settings.common.leaveUnsaved'), t('settings.common.unsavedTitle'), {
        type: 'warning', confirmButtonText: t('settings.common.leave'), cancelButtonText: t('settings.common.stay'),
      })
      return true
    } catch {
      return false
    }
  })
}

/** A JSON snapshot to compare a form against what was loaded. */
export function useSnapshot<T>(current: () => T) {
  const saved = ref('')
  const dirty = computed(() => saved.value !== '' && JSON.stringify(current()) !== saved.value)
  function mark() {
    saved.value = JSON.stringify(current())
  }
  return { dirty, mark }
}
