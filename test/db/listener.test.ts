import { expect } from 'chai'
import pg from 'pg'
import { readEnv } from '../../shared/config/env.ts'
import { PgListener } from '../../shared/db/listener.ts'
import { uniqueNamespace, waitFor } from '../../shared/testing/index.ts'

describe('PgListener (LISTEN with reconnect)', () => {
  const env = readEnv()
  const ns = uniqueNamespace('listener')
  const channel = `${ns}_wake`
  const received: string[] = []
  const listenings: boolean[] = []
  let listener: PgListener
  let admin: pg.Client

  const notify = (payload: string) => admin.query('select pg_notify($1, $2)', [channel, payload])
  /** the backends LISTENing on our channel (their last statement was the LISTEN) */
  const listeningBackends = async () =>
    (await admin.query<{ pid: number }>('select pid from pg_stat_activity where query = $1 and pid <> pg_backend_pid()', [`listen "${channel}"`])).rows

  before(async () => {
    admin = new pg.Client({ connectionString: env.databaseUrl })
    admin.on('error', () => {})
    await admin.connect()
    listener = new PgListener({
      databaseUrl: env.databaseUrl,
      channel,
      retryDelayMs: 100,
      onNotification: (payload) => received.push(payload),
      onListening: (reconnected) => {
        listenings.push(reconnected)
      }
    })
    await listener.start()
  })

  after(async () => {
    await listener.stop()
    await admin.end()
  })

  it('hands over the payloads notified on its channel, after saying it listens', async () => {
    expect(listenings).to.deep.equal([false])
    expect(listener.listening).to.equal(true)
    await notify('first')
    await waitFor(() => received.includes('first'), { what: 'the first notification' })
  })

  it('listens again after its connection is killed, says it reconnected, and receives what is notified next', async () => {
    const [backend] = await listeningBackends()
    expect(backend, 'the listening backend').to.not.equal(undefined)
    await admin.query('select pg_terminate_backend($1)', [backend!.pid])
    await waitFor(() => listenings.length === 2, { what: 'the listener to LISTEN again' })
    expect(listenings).to.deep.equal([false, true])
    const [again] = await listeningBackends()
    expect(again!.pid).to.not.equal(backend!.pid)
    await notify('after the reconnect')
    await waitFor(() => received.includes('after the reconnect'), { what: 'a notification after the reconnect' })
  })

  it('once stopped, holds no connection and does not come back', async () => {
    await listener.stop()
    expect(listener.listening).to.equal(false)
    await waitFor(async () => (await listeningBackends()).length === 0, { what: 'the LISTEN connection to close' })
    expect(listenings).to.have.length(2)
  })
})
