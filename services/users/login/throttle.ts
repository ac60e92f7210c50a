import { TooManyRequests } from '@feathersjs/errors'
import type { Knex } from 'knex'
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'
import type { UsersConfig } from '../config.ts'

/** The table the counters live in (migration 003_login_attempts), shared by every users instance. */
const table = 'login_attempts'

/**
 * Bounds password guessing with two counts of attempts in a fixed window, kept in PostgreSQL by
 * rate-limiter-flexible (atomic upserts, so concurrent guesses on several instances are counted
 * exactly): one per client address, one per account (email, whether or not it exists, so the answer
 * says nothing about which accounts exist). An attempt is counted before its password is checked, so
 * a burst of concurrent guesses cannot slip past the bound; a successful one is given back to its
 * address and clears its account's count. The per-account bound is the larger: it only has to stop
 * guessing spread over many addresses, and locks the owner out only while such guessing goes on.
 */
export class LoginThrottle {
  private readonly byAddress: RateLimiterPostgres
  private readonly byAccount: RateLimiterPostgres

  constructor(db: Knex, schema: string, config: UsersConfig) {
    const common = { storeClient: db, storeType: 'knex', schemaName: schema, tableName: table, tableCreated: true, duration: config.loginRateWindowMs / 1000 }
    this.byAddress = new RateLimiterPostgres({ ...common, keyPrefix: 'address', points: config.loginRateAddressPoints })
    this.byAccount = new RateLimiterPostgres({ ...common, keyPrefix: 'account', points: config.loginRateAccountPoints })
  }

  /** Counts one attempt; 429 (with `retryAfter` in seconds) when the address or the account is over its bound. */
  async admit(email: string, address: string): Promise<void> {
    try {
      await this.byAddress.consume(address)
    } catch (err) {
      throw refusal(err, 'Too many failed logins from this address')
    }
    try {
      await this.byAccount.consume(email.toLowerCase())
    } catch (err) {
      // The address did not make this attempt count against the account: give its point back.
      await this.byAddress.reward(address)
      throw refusal(err, 'Too many failed logins for this account')
    }
  }

  /** A correct password: the attempt does not count against the address, and the account starts afresh. */
  async succeeded(email: string, address: string): Promise<void> {
    await Promise.all([this.byAddress.reward(address), this.byAccount.delete(email.toLowerCase())])
  }
}

/** The library rejects with a RateLimiterRes when over the bound, with an Error when the store failed. */
function refusal(err: unknown, message: string): unknown {
  if (!(err instanceof RateLimiterRes)) return err
  return new TooManyRequests(`${message}; try again later`, { retryAfter: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) })
}
