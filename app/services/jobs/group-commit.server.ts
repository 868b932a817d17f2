/**
 * Group commit: callers add one item each and await its result; items that arrive while a
 * flush is running (or in the same tick) go to the database together in the next flush.
 * Under load the batches grow by themselves; when idle an item is flushed at once, so
 * batching costs no latency. A failed flush rejects exactly the items it carried.
 */
export class GroupCommit<In, Out> {
  private pending: { item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] = [];
  private flushing = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (items: In[]) => Promise<Out[]>,
    private readonly options: { maxBatch?: number; maxConcurrentFlushes?: number } = {},
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing >= (this.options.maxConcurrentFlushes ?? 2)) return;
    this.scheduled = true;
    // Let the current tick's callers join this batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxBatch ?? 500);
    this.flushing++;
    try {
      const results = await this.flush(batch.map((entry) => entry.item));
      batch.forEach((entry, i) => entry.resolve(results[i] as Out));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      this.flushing--;
      if (this.pending.length > 0) this.schedule();
    }
  }
}
