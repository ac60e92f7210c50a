import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'

export interface ReceivedMail {
  to: string[]
  subject: string
  messageId?: string
}

/**
 * A real SMTP server that accepts everything and remembers what it got, so the
 * chaos run can count welcome emails per address from the wire, not from a table.
 */
export class SmtpSink {
  readonly mails: ReceivedMail[] = []
  private server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, session, callback) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text)?.[1]?.trim()
        this.mails.push({
          to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          subject: header('Subject') ?? '',
          messageId: header('Message-ID')
        })
        callback()
      })
    }
  })

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return (this.server.server.address() as AddressInfo).port
  }

  /** How many mails each address received whose subject matches. */
  countBy(subject: RegExp): Map<string, number> {
    const counts = new Map<string, number>()
    for (const mail of this.mails) {
      if (!subject.test(mail.subject)) continue
      for (const to of mail.to) counts.set(to, (counts.get(to) ?? 0) + 1)
    }
    return counts
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
