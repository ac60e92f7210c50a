import { runService } from '../../shared/feathers/run.ts'
import { servicePort } from '../../shared/services.ts'
import { createApp } from './app.ts'

await runService(createApp(), servicePort('payments'))
