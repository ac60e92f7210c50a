import { expect } from 'chai'
import { checkCadence, nextDueAfter, type Cadence } from '../../shared/jobs/index.ts'
import { dueTimesToFire } from '../../shared/jobs/catch-up.ts'

/** The due times of a cadence from `from` (exclusive), as ISO strings. */
function dueTimes(cadence: Cadence, from: string, count: number): string[] {
  const times: string[] = []
  let at = new Date(from)
  for (let i = 0; i < count; i++) {
    at = nextDueAfter(cadence, at)!
    times.push(at.toISOString())
  }
  return times
}

/** Local wall-clock time in a zone, for reading the assertions. */
const local = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone, dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso))

describe('schedule due times (cron in a time zone, intervals, catch-up)', () => {
  const berlin = checkCadence('test', { cron: '0 9 * * *', timeZone: 'Europe/Berlin' })

  it('keeps a daily 09:00 at 09:00 local time across the spring change in Europe/Berlin (2026-03-29)', () => {
    const times = dueTimes(berlin, '2026-03-27T12:00:00Z', 4)
    expect(times).to.deep.equal(['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z'])
    expect(times.map((t) => local(t, 'Europe/Berlin').slice(-5))).to.deep.equal(['09:00', '09:00', '09:00', '09:00'])
  })

  it('keeps it at 09:00 local across the autumn change (2026-10-25)', () => {
    expect(dueTimes(berlin, '2026-10-24T12:00:00Z', 2)).to.deep.equal(['2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z'])
  })

  it('runs a time that does not exist on the spring day once, right after the gap, and one that exists twice in autumn once', () => {
    const night = checkCadence('test', { cron: '30 2 * * *', timeZone: 'Europe/Berlin' })
    const spring = dueTimes(night, '2026-03-28T12:00:00Z', 2)
    expect(spring[0]!.slice(0, 10)).to.equal('2026-03-29')
    expect(local(spring[0]!, 'Europe/Berlin') >= '2026-03-29 03:00').to.equal(true)
    expect(spring[1]).to.equal('2026-03-30T00:30:00.000Z')
    expect(dueTimes(night, '2026-10-24T12:00:00Z', 2)).to.deep.equal(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'])
  })

  it('fires every real half hour of the long autumn night (02:00 and 02:30 twice: CEST, then CET)', () => {
    const halfHourly = checkCadence('test', { cron: '*/30 * * * *', timeZone: 'Europe/Berlin' })
    const times = dueTimes(halfHourly, '2026-10-24T23:59:00Z', 4)
    expect(times).to.deep.equal(['2026-10-25T00:00:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T01:30:00.000Z'])
    expect(times.map((t) => local(t, 'Europe/Berlin').slice(-5))).to.deep.equal(['02:00', '02:30', '02:00', '02:30'])
  })

  it('counts an interval from its previous due time, so fires do not drift with lateness', () => {
    const every = checkCadence('test', { intervalMs: 60_000 })
    const anchor = new Date('2026-01-01T00:00:00Z')
    expect(nextDueAfter(every, new Date('2026-01-01T00:03:10Z'), anchor)!.toISOString()).to.equal('2026-01-01T00:04:00.000Z')
  })

  describe('after an outage (first unfired due time 3 h ago, hourly)', () => {
    const hourly = checkCadence('test', { intervalMs: 3_600_000 })
    const now = new Date('2026-06-01T12:00:00Z')
    const firstDue = new Date('2026-06-01T09:05:00Z') // then 10:05 and 11:05; next 12:05
    const grace = 10_000
    const iso = (dates: Date[]) => dates.map((d) => d.toISOString())

    it('skip fires none of the missed times', () => {
      expect(dueTimesToFire(hourly, firstDue, now, 'skip', grace)).to.deep.equal([])
    })

    it('once fires the latest missed time once', () => {
      expect(iso(dueTimesToFire(hourly, firstDue, now, 'once', grace))).to.deep.equal(['2026-06-01T11:05:00.000Z'])
    })

    it('allWithinMs fires every missed time within the window, oldest first', () => {
      expect(iso(dueTimesToFire(hourly, firstDue, now, { allWithinMs: 2.5 * 3_600_000 }, grace))).to.deep.equal([
        '2026-06-01T10:05:00.000Z',
        '2026-06-01T11:05:00.000Z'
      ])
    })

    it('every policy fires a time that is just due (within the grace)', () => {
      const due = new Date('2026-06-01T11:59:58Z')
      for (const policy of ['skip', 'once', { allWithinMs: 0 }] as const) {
        expect(iso(dueTimesToFire(hourly, due, now, policy, grace)), JSON.stringify(policy)).to.deep.equal(['2026-06-01T11:59:58.000Z'])
      }
    })
  })
})
