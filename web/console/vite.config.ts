/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { defineConfig } from 'vite'

// Served under /console/ on the API's own origin (make run; CloudFront in AWS), so no CORS and no API base URL.
// Element Plus components and their styles are imported where they are used, which keeps the sign-in and queue
// routes' JavaScript small (bench/console.py measures it).
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    // `npm run dev` against `make run`'s API on :8000
    proxy: { '/v1': 'http://127.0.0.1:8000' },
  },
  build: {
    outDir: 'dist',
    manifest: true, // bench/console.py sums each route's JavaScript from it
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'node',
    include: ['tests/**/*.test.ts'],
  },
})
