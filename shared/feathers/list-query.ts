import { sorter } from '@feathersjs/adapter-commons'
import { Type, type Static, type TOptional, type TUnion, type TLiteral } from '@feathersjs/typebox'

type SortOrder = TOptional<TUnion<[TLiteral<1>, TLiteral<-1>]>>

/**
 * The query of a short list that is read whole and then paged (a seller's appliances, the maintenance
 * notices in force): `$limit`, `$skip` and `$sort` on the named fields, and nothing else (400 naming any other
 * parameter), so a filter a client sends is refused rather than silently ignored.
 */
export function listQuerySchema<const F extends string>(id: string, sortable: readonly F[]) {
  const order = Type.Optional(Type.Union([Type.Literal(1), Type.Literal(-1)]))
  const sort = Object.fromEntries(sortable.map((field) => [field, order])) as Record<F, SortOrder>
  return Type.Object(
    {
      $limit: Type.Optional(Type.Integer({ minimum: 0 })),
      $skip: Type.Optional(Type.Integer({ minimum: 0 })),
      $sort: Type.Optional(Type.Object(sort, { additionalProperties: false }))
    },
    { $id: id, additionalProperties: false }
  )
}

export type ListQuery = Static<ReturnType<typeof listQuerySchema<string>>>

/** One page of a list read whole: sorted by `$sort`, then `$skip` and `$limit`. */
export function pageOf<T>(items: T[], query: ListQuery | undefined): T[] {
  const { $sort, $skip = 0, $limit } = query ?? {}
  const sorted = $sort && Object.keys($sort).length ? [...items].sort(sorter($sort as Record<string, 1 | -1>)) : items
  return sorted.slice($skip, $limit === undefined ? undefined : $skip + $limit)
}

