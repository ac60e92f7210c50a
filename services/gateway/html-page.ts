import type { Context } from 'koa'

/**
 * Answers a self-contained HTML page (the warehouse wall, the operations console): never cached, and no
 * referrer sent on (a page may carry a token in its address). `frame: false` also forbids framing it
 * (the console's buttons act; the warehouse wall may be shown inside a dashboard).
 */
export function sendHtmlPage(ctx: Context, html: string, { frame = true }: { frame?: boolean } = {}): void {
  ctx.set('Cache-Control', 'no-store')
  ctx.set('Referrer-Policy', 'no-referrer')
  if (!frame) ctx.set('X-Frame-Options', 'DENY')
  ctx.type = 'html'
  ctx.body = html
}
