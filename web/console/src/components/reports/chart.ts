// ECharts comes in its own chunk, asked for as soon as the reports route starts: the route mounts and sends for its
// figures while ECharts downloads and evaluates (about half a second of a slow laptop's CPU), rather than after.
import { defineAsyncComponent } from 'vue'

let loading: Promise<typeof import('./EChart.vue')> | null = null

/** Start loading the chart code (once); the charts render when both it and their data are there. */
export const preloadChart = () => (loading ??= import('./EChart.vue'))

export const EChart = defineAsyncComponent(preloadChart)
