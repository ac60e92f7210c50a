import { createApp as createUsers } from '../../services/users/app.ts'
import { createApp as createNotifications } from '../../services/notifications/app.ts'
import { createApp as createBenefits } from '../../services/benefits/app.ts'
import { createApp as createSegments } from '../../services/segments/app.ts'
import { createApp as createChat } from '../../services/chat/app.ts'
import { createApp as createCatalog } from '../../services/catalog/app.ts'
import { createApp as createOrders } from '../../services/orders/app.ts'
import { createApp as createFulfilment } from '../../services/fulfilment/app.ts'
import { createApp as createPayments } from '../../services/payments/app.ts'
import { createApp as createSubscriptions } from '../../services/subscriptions/app.ts'
import { startCardProvider, type RunningCardProvider } from '../../services/card-provider/app.ts'
import type { FailureInjection } from '../../services/card-provider/charges.ts'
import type { OrdersConfig } from '../../services/orders/config.ts'
import type { PaymentsConfig } from '../../services/payments/config.ts'
import type { SubscriptionsConfig } from '../../services/subscriptions/config.ts'
import { createApp as createReference } from '../../services/reference/app.ts'
import { createApp as createGateway } from '../../services/gateway/app.ts'
import { TestApps } from '../../shared/testing/apps.ts'
import { testEnv } from '../../shared/testing/env.ts'
import type { RunningApp } from '../../shared/testing/server.ts'
import { startSmtpServer, type TestSmtpServer } from '../../shared/testing/smtp.ts'

export interface Stack {
  /** the public origin, as a client sees it */
  base: string
  namespace: string
  apps: Map<string, RunningApp>
  smtp: TestSmtpServer
  /** the simulated card provider payments and subscriptions charge */
  cardProvider: RunningCardProvider
  stop(): Promise<void>
}

/**
 * Every service in this process, each on its own free port, with the gateway
 * routing to them: the whole of Bazaar for an end-to-end test file.
 */
/** Settings of the checkout's services for a test: short timeouts and retries, the provider's failure injection. */
export interface CheckoutSettings {
  orders?: Partial<OrdersConfig>
  payments?: Partial<PaymentsConfig>
  subscriptions?: Partial<SubscriptionsConfig>
  cardFailures?: Partial<FailureInjection>
}

export async function startStack(namespace: string, overrides: { adminEmail?: string; adminPassword?: string } = {}, checkout: CheckoutSettings = {}): Promise<Stack> {
  const smtp = await startSmtpServer()
  const env = testEnv(namespace, { smtpUrl: smtp.url, ...overrides })
  const cardProvider = await startCardProvider({ databaseUrl: env.databaseUrl, namespace, failures: checkout.cardFailures })
  const apps = new Map<string, RunningApp>()
  const started = new TestApps(namespace)
  const stop = async () => {
    await started.close()
    await smtp.close()
    await cardProvider.stop()
  }
  try {
    const factories: Array<[string, () => ReturnType<typeof createUsers>]> = [
      ['reference', () => createReference(env)],
      ['users', () => createUsers(env)],
      ['notifications', () => createNotifications(env)],
      ['benefits', () => createBenefits(env)],
      ['segments', () => createSegments(env)],
      ['chat', () => createChat(env)],
      ['catalog', () => createCatalog(env)],
      ['orders', () => createOrders(env, checkout.orders)],
      ['fulfilment', () => createFulfilment(env)],
      ['payments', () => createPayments(env, { cardProviderUrl: cardProvider.url, ...checkout.payments })],
      ['subscriptions', () => createSubscriptions(env, { cardProviderUrl: cardProvider.url, ...checkout.subscriptions })]
    ]
    // Started together, as `npm start` and the chaos run start them (about 1 s of CPU in 6-8 s one after the other);
    // only the gateway needs the others' addresses.
    const running = await started.startAll(factories.map(([, create]) => create()))
    factories.forEach(([name], i) => apps.set(name, running[i]!))
    const vars: NodeJS.ProcessEnv = { ...process.env }
    for (const [name, running] of apps) vars[`${name.toUpperCase()}_URL`] = running.url
    apps.set('gateway', await started.start(createGateway(env, vars)))
  } catch (err) {
    await stop()
    throw err
  }
  return { base: apps.get('gateway')!.url, namespace, apps, smtp, cardProvider, stop }
}
