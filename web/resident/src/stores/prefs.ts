// 长辈模式 (large type, high contrast): chosen once, kept on this phone across visits and reloads.
import { ref } from 'vue'
import type { Storage } from '@/platform/uni'

export function createPrefs(storage: Storage) {
  const elder = ref(storage.get<boolean>('linli.elder') === true)
  function setElder(on: boolean): void {
    elder.value = on
    storage.set('linli.elder', on)
  }
  return { elder, setElder }
}
