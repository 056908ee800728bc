// Promises waiting for the durable watermark. The writer thread wakes JS once per sync that
// reaches the lowest seq anyone waits for (never once per order); one pass then settles every
// waiter the new watermark covers and asks to be woken for the next one.
import type { NativeEngine } from './native.js';

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class DurableWaiters {
  readonly #native: NativeEngine;
  // Sorted by seq; `#head` is the first unsettled entry (settled ones are dropped in bulk).
  #queue: Waiter[] = [];
  #head = 0;
  #referenced = false;
  #watermark = 0;

  constructor(nativeEngine: NativeEngine) {
    this.#native = nativeEngine;
  }

  get pending(): number {
    return this.#queue.length - this.#head;
  }

  /** The watermark as last read (refreshes it). */
  watermark(): number {
    const w = this.#native.durableSeq();
    if (w > this.#watermark) this.#watermark = w;
    return this.#watermark;
  }

  wait(seq: number): Promise<void> {
    if (seq <= this.#watermark || seq <= this.watermark()) {
      // Lower seqs still queued (their wake not yet delivered) settle first: promises resolve
      // in seq order even when a later call finds its seq already durable.
      if (this.pending > 0) this.settle();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { seq, resolve, reject };
      const q = this.#queue;
      // Callers nearly always wait in seq order: append; otherwise insert in place.
      if (q.length === this.#head || q[q.length - 1].seq <= seq) {
        q.push(w);
      } else {
        let lo = this.#head;
        let hi = q.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (q[mid].seq <= seq) lo = mid + 1;
          else hi = mid;
        }
        q.splice(lo, 0, w);
      }
      if (!this.#referenced) {
        this.#referenced = true;
        this.#native.refWake(true);
      }
      if (q[this.#head] === w && this.#native.requestWake(seq)) this.settle();
    });
  }

  /** Wake handler: settle everything the watermark covers, then re-arm for the rest. */
  settle(): void {
    this.#native.ackWake();
    for (;;) {
      const w = this.watermark();
      const q = this.#queue;
      let i = this.#head;
      while (i < q.length && q[i].seq <= w) q[i++].resolve();
      this.#head = i;
      if (i === q.length) {
        this.#queue = [];
        this.#head = 0;
        if (this.#referenced) {
          this.#referenced = false;
          this.#native.refWake(false);
        }
        return;
      }
      if (i > 1024 && i * 2 > q.length) {
        this.#queue = q.slice(i);
        this.#head = 0;
      }
      if (!this.#native.requestWake(this.#queue[this.#head].seq)) return;
    }
  }

  /** Rejects every waiter (fail-stop or close of a failed engine). */
  rejectAll(err: Error): void {
    const q = this.#queue;
    for (let i = this.#head; i < q.length; i++) q[i].reject(err);
    this.#queue = [];
    this.#head = 0;
    if (this.#referenced) {
      this.#referenced = false;
      this.#native.refWake(false);
    }
  }
}
