import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

/** One message as the test SMTP server received it. */
export interface ReceivedMail {
  from: string
  to: string[]
  subject?: string
  messageId?: string
  raw: string
}

export interface TestSmtpServer {
  /** what to give a service as its SMTP_URL */
  url: string
  received: ReceivedMail[]
  /** messages received for one address */
  to(address: string): ReceivedMail[]
  /** makes the next `count` messages fail with a 4xx (a mail server having trouble) */
  failNext(count: number): void
  close(): Promise<void>
}

/**
 * A real SMTP server on a free local port (no TLS, no auth), recording every
 * message it accepts, for tests of services that send email.
 */
export async function startSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = []
  let failures = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        if (failures > 0) {
          failures -= 1
          const error = Object.assign(new Error('Try again later'), { responseCode: 451 })
          return callback(error)
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        const headers = parseHeaders(raw)
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: headers.get('subject'),
          messageId: headers.get('message-id'),
          raw
        })
        callback()
      })
    }
  })
  // listen() hands back the net.Server it listens on: its address is public, no need to look inside the SMTPServer.
  const listening = await new Promise<{ address(): AddressInfo | string | null }>((resolve, reject) => {
    server.once('error', reject)
    const netServer = server.listen(0, '127.0.0.1', () => resolve(netServer))
  })
  server.on('error', () => {})
  const { port } = listening.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    to: (address) => received.filter((mail) => mail.to.includes(address.toLowerCase())),
    failNext(count) {
      failures = count
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

/** The header block of a raw message, unfolded, by lowercase name. */
function parseHeaders(raw: string): Map<string, string> {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? ''
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return headers
}
