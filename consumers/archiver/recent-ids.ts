/** The ids of a partition's most recent events, to drop an event seen again (pure). */
export class RecentIds {
  /** Oldest first: a Set keeps insertion order. */
  private readonly ids = new Set<string>();
  private readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** Adds `id`, forgetting the oldest beyond the capacity. */
  remember(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  /** Forgets everything, then remembers `ids` (oldest first). */
  reset(ids: readonly string[]): void {
    this.ids.clear();
    for (const id of ids) this.remember(id);
  }
}
