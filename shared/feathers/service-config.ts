import type { ServiceApp, ServiceConfigs } from './declarations.ts'

/** The app's own configuration, typed for the service it belongs to (see ServiceConfigs). */
export function serviceConfig<S extends keyof ServiceConfigs>(app: ServiceApp, service: S): ServiceConfigs[S] {
  if (app.get('service') !== service) throw new Error(`the ${service} configuration was asked of the ${app.get('service')} app`)
  // createServiceApp validated it against that service's schema before the app was handed out
  return app.get('config') as ServiceConfigs[S]
}
