/**
 * The fake's request log: per endpoint, an exact count of the requests received and the last
 * `limit` of them in a fixed-size ring. Recording is O(1) and allocates nothing once the ring
 * is full; only reading the log (`entries`) copies it, at most `limit` entries. It is owned by
 * one FakeTwitch (made in its `make`), never shared.
 */

/** A fixed-capacity ring of the latest items, and how many were ever pushed. */
export class Ring<A> {
  /** Slots in use; grows up to `capacity` once, then items are overwritten in place. */
  private readonly slots: Array<A> = []
  /** Where the next item goes once the ring is full (the oldest item's slot). */
  private next = 0
  private pushed = 0

  readonly capacity: number

  /** `capacity` is floored; negative or NaN keeps nothing, `Infinity` keeps everything. */
  constructor(capacity: number) {
    this.capacity = Number.isNaN(capacity) ? 0 : Math.max(0, Math.floor(capacity))
  }

  push(item: A): void {
    this.pushed++
    if (this.capacity <= 0) return
    if (this.slots.length < this.capacity) {
      this.slots.push(item)
      return
    }
    this.slots[this.next] = item
    this.next = (this.next + 1) % this.capacity
  }

  /** Every item ever pushed, kept or not. */
  get count(): number {
    return this.pushed
  }

  /** How many items are kept (at most `capacity`). */
  get size(): number {
    return this.slots.length
  }

  /** The kept items, oldest first (a copy). */
  toArray(): Array<A> {
    return this.slots.length < this.capacity
      ? this.slots.slice()
      : [...this.slots.slice(this.next), ...this.slots.slice(0, this.next)]
  }

  last(): A | undefined {
    if (this.slots.length === 0) return undefined
    return this.slots.length < this.capacity
      ? this.slots[this.slots.length - 1]
      : this.slots[(this.next + this.capacity - 1) % this.capacity]
  }
}

/** One {@link Ring} per endpoint. */
export class RequestLog<E extends string, A> {
  private rings: Map<E, Ring<A>> = new Map()
  /** Exact counts by a label the caller picks (the token endpoint's `grant_type`). */
  private tallies: Map<string, number> = new Map()

  constructor(readonly limit: number) {}

  private ring(endpoint: E): Ring<A> {
    let ring = this.rings.get(endpoint)
    if (ring === undefined) {
      ring = new Ring(this.limit)
      this.rings.set(endpoint, ring)
    }
    return ring
  }

  record(endpoint: E, item: A, label?: string): void {
    this.ring(endpoint).push(item)
    if (label !== undefined) this.tallies.set(label, (this.tallies.get(label) ?? 0) + 1)
  }

  /** How many requests were recorded with `label`, exactly. */
  tally(label: string): number {
    return this.tallies.get(label) ?? 0
  }

  count(endpoint: E): number {
    return this.rings.get(endpoint)?.count ?? 0
  }

  /** How many requests of `endpoint` are kept (at most `limit`). */
  size(endpoint: E): number {
    return this.rings.get(endpoint)?.size ?? 0
  }

  entries(endpoint: E): ReadonlyArray<A> {
    return this.rings.get(endpoint)?.toArray() ?? []
  }

  last(endpoint: E): A | undefined {
    return this.rings.get(endpoint)?.last()
  }

  reset(): void {
    this.rings = new Map()
    this.tallies = new Map()
  }
}
