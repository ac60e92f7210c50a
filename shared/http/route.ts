import type { IncomingMessage, ServerResponse } from 'node:http'

/** What `http.createServer` takes: one function for every request. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

export interface Route {
  matches(req: IncomingMessage): boolean
  listener: RequestListener
}

/** One request listener from several: the first route that matches a request answers it, `otherwise` the rest. */
export function routeRequests(routes: Route[], otherwise: RequestListener): RequestListener {
  return (req, res) => {
    for (const route of routes) {
      if (route.matches(req)) {
        route.listener(req, res)
        return
      }
    }
    otherwise(req, res)
  }
}
