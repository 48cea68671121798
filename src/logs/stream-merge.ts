/**
 * Reads several streams of a group as one sequence in (timestamp, id) order,
 * the way FilterLogEvents interleaves them. Each stream is read through its
 * own index range in small chunks, and a binary heap picks the next event, so
 * a page costs O(page · log streams) whatever the size of the streams.
 */
import type { EventKey, LogStore, PageEvent, TimeRange } from './log-store';

export interface MergedEvent extends PageEvent {
  streamName: string;
}

interface Cursor {
  streamId: number;
  streamName: string;
  buf: PageEvent[];
  pos: number;
  /** Key of the last buffered event: the next chunk starts after it. */
  next: EventKey;
  done: boolean;
}

export class StreamMerger {
  private readonly heap: Cursor[] = [];
  private readonly before: (a: PageEvent, b: PageEvent) => boolean;

  constructor(
    private readonly store: LogStore,
    streams: { id: number; name: string }[],
    /** Start strictly after (ascending) or before (descending) this key. */
    from: EventKey,
    private readonly range: TimeRange,
    private readonly descending = false,
    private readonly chunk = 500,
  ) {
    this.before = descending
      ? (a, b) => a.timestamp > b.timestamp || (a.timestamp === b.timestamp && a.id > b.id)
      : (a, b) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
    for (const s of streams) {
      const c: Cursor = { streamId: s.id, streamName: s.name, buf: [], pos: 0, next: from, done: false };
      if (this.fill(c)) this.push(c);
    }
  }

  /** The next event without consuming it. */
  peek(): MergedEvent | undefined {
    const c = this.heap[0];
    if (!c) return undefined;
    return { ...c.buf[c.pos]!, streamName: c.streamName };
  }

  /** Consumes and returns the next event. */
  next(): MergedEvent | undefined {
    const c = this.heap[0];
    if (!c) return undefined;
    const e = { ...c.buf[c.pos]!, streamName: c.streamName };
    c.pos++;
    if (c.pos < c.buf.length || this.fill(c)) this.siftDown(0);
    else {
      const last = this.heap.pop()!;
      if (this.heap.length) {
        this.heap[0] = last;
        this.siftDown(0);
      }
    }
    return e;
  }

  /** Refills a cursor's buffer; false when its stream has nothing more in range. */
  private fill(c: Cursor): boolean {
    if (c.done) return false;
    const rows = this.descending
      ? this.store.eventsBefore(c.streamId, c.next, this.range, this.chunk)
      : this.store.eventsAfter(c.streamId, c.next, this.range, this.chunk);
    c.buf = rows;
    c.pos = 0;
    if (rows.length < this.chunk) c.done = true;
    const last = rows[rows.length - 1];
    if (last) c.next = { timestamp: last.timestamp, id: last.id };
    return rows.length > 0;
  }

  private head(c: Cursor): PageEvent {
    return c.buf[c.pos]!;
  }

  private push(c: Cursor): void {
    this.heap.push(c);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(this.head(this.heap[i]!), this.head(this.heap[p]!))) break;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.before(this.head(this.heap[l]!), this.head(this.heap[m]!))) m = l;
      if (r < n && this.before(this.head(this.heap[r]!), this.head(this.heap[m]!))) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
  }
}
