import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api'
import { currentContext, runWithContext } from '../log/context.ts'

/**
 * OpenTelemetry's context manager, backed by the work context's AsyncLocalStorage
 * (shared/log/context.ts) instead of a store of its own, which is what
 * @opentelemetry/context-async-hooks's AsyncLocalStorageContextManager keeps.
 * On Node 20 every AsyncLocalStorage in use adds its propagation to the
 * creation of every promise in the process, traced or not, and the bus makes
 * several promises a message; with one store, a traced message's span goes in
 * the same `run` that carries its request and message ids.
 */
export class WorkContextManager implements ContextManager {
  active(): Context {
    return currentContext().otel ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return runWithContext({ otel: context }, () => fn.apply(thisArg, args))
  }

  /** A function bound to `context`; anything else (an event emitter) is returned as it is, unpatched. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== 'function') return target
    const manager = this
    const fn = target as unknown as (...args: unknown[]) => unknown
    return function bound(this: unknown, ...args: unknown[]) {
      return manager.with(context, () => fn.apply(this, args))
    } as unknown as T
  }

  enable(): this {
    return this
  }

  disable(): this {
    return this
  }
}
