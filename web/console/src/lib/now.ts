import { onBeforeUnmount, onMounted, ref } from 'vue'

/** The current time, ticking every `everyMs`, so badges count down between polls. */
export function useNow(everyMs = 15000) {
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | undefined
  onMounted(() => {
    timer = setInterval(() => (now.value = Date.now()), everyMs)
  })
  onBeforeUnmount(() => clearInterval(timer))
  return now
}
