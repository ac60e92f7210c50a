import { expect } from 'chai'
import { amqpUrlList, readEnv } from '../../shared/config/env.ts'
import { HostRotation, toTarget } from '../../shared/bus/hosts.ts'

describe('a broker host list (AMQP_URL with several nodes)', () => {
  it('reads one URL as today, and a comma-separated list in its order', () => {
    const single = readEnv({ AMQP_URL: 'amqp://u:p@rabbit:5672' })
    expect(single.amqpUrl).to.equal('amqp://u:p@rabbit:5672')
    expect(single.amqpUrls).to.deep.equal(['amqp://u:p@rabbit:5672'])
    const cluster = readEnv({ AMQP_URL: 'amqp://u:p@r1:5672, amqp://u:p@r2:5673 ,amqp://u:p@r3:5674,' })
    expect(cluster.amqpUrls).to.deep.equal(['amqp://u:p@r1:5672', 'amqp://u:p@r2:5673', 'amqp://u:p@r3:5674'])
    expect(cluster.amqpUrl, 'tools that use one node take the first').to.equal('amqp://u:p@r1:5672')
    expect(readEnv({}).amqpUrls).to.deep.equal(['amqp://guest:guest@127.0.0.1:5672'])
  })

  it('refuses an entry that is not an amqp URL, naming it without its password', () => {
    expect(() => amqpUrlList('amqp://a:5672,http://u:secret@b:15672')).to.throw(/amqp:\/\/ or amqps:\/\/.*http:\/\/u:\*\*\*@b:15672/)
    expect(() => amqpUrlList(' , ')).to.throw(/empty/)
  })

  it('moves to the next broker on each advance and wraps around after the last', () => {
    const hosts = new HostRotation(['amqp://a:1', 'amqp://b:2', 'amqp://c:3'], 10)
    const seen = [hosts.current]
    for (let i = 0; i < 4; i++) seen.push(hosts.advance())
    expect(seen).to.deep.equal(['amqp://a:1', 'amqp://b:2', 'amqp://c:3', 'amqp://a:1', 'amqp://b:2'])
  })

  it('rewrites the one target object amqplib reads at every attempt, rather than handing it a new one', () => {
    const hosts = new HostRotation(['amqp://a:1', 'amqp://b:2'], 10)
    const target = hosts.target
    expect([target.hostname, target.port]).to.deep.equal(['a', 1])
    hosts.advance()
    expect(hosts.target).to.equal(target)
    expect([target.hostname, target.port]).to.deep.equal(['b', 2])
  })

  it('reads each URL as amqplib reads a string: credentials, vhost, default ports, tuning parameters', () => {
    expect(toTarget('amqp://us%40r:p%3Ass@h:5700/%2Fshop?frameMax=8192&channelMax=9', 10)).to.deep.include({
      protocol: 'amqp', hostname: 'h', port: 5700, username: 'us@r', password: 'p:ss', vhost: '%2Fshop', heartbeat: 10, frameMax: 8192, channelMax: 9
    })
    expect(toTarget('amqp://h', 5)).to.deep.include({ port: 5672, username: 'guest', password: 'guest', vhost: '/', heartbeat: 5 })
    expect(toTarget('amqps://[::1]', 5)).to.deep.include({ protocol: 'amqps', hostname: '::1', port: 5671 })
    expect(() => toTarget('http://h', 5)).to.throw(/amqp/)
  })
})
