import { createConnection } from 'node:net'
import { SMTPServer } from 'smtp-server'

/**
 * A development mail catcher for `npm start`: when SMTP_URL is not set and
 * nothing answers on 127.0.0.1:1025, emails the services send are received
 * here and shown as one line each, so a newcomer sees the welcome email
 * without installing a mail server (with Docker, Mailpit does this job).
 */
export async function startDevMailCatcher(say: (line: string) => void): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (process.env.SMTP_URL) return undefined
  if (await answers(1025)) return undefined // a real catcher (Mailpit, MailHog) is already there
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let head = ''
      stream.on('data', (chunk: Buffer) => { if (head.length < 8192) head += chunk.toString('utf8') })
      stream.on('end', () => {
        const subject = /^Subject:\s*(.*)$/im.exec(head)?.[1] ?? '(no subject)'
        say(`  [mail] to ${session.envelope.rcptTo.map((r) => r.address).join(', ')}: ${subject}`)
        callback()
      })
    }
  })
  server.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(1025, '127.0.0.1', () => resolve())
  })
  return { url: 'smtp://127.0.0.1:1025', close: () => new Promise((resolve) => server.close(() => resolve())) }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}
