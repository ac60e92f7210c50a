#!/usr/bin/env node
// The `bazaar` operator CLI. The CLI is TypeScript; tsx compiles it on the fly.
import { register } from 'tsx/esm/api'

register()
await import(new URL('../cli/index.ts', import.meta.url).href)
