// The two admission rules of the processor, modelled on ASP.NET's rate limiters (oldest first):
// a concurrency limiter (N running + M queued, then reject) and a fixed-window limiter
// (1 permit per window, M queued for later windows, then reject).

/** What a caller gets back when its request is waiting; cancel() when the client goes away. */
export interface Ticket {
  cancel(): void;
}

const NOOP_TICKET: Ticket = { cancel() {} };

interface Waiter {
  start: () => void;
  cancelled: boolean;
}

/** A FIFO with lazy removal of cancelled entries. */
class WaitQueue {
  private items: Waiter[] = [];
  private head = 0;
  /** Live (not cancelled) entries. */
  size = 0;

  push(start: () => void): Ticket {
    const w: Waiter = { start, cancelled: false };
    this.items.push(w);
    this.size++;
    return {
      cancel: () => {
        if (w.cancelled) return;
        w.cancelled = true;
        this.size--;
      },
    };
  }

  /** Oldest live waiter, removed from the queue (it can no longer be cancelled). */
  shift(): Waiter | undefined {
    while (this.head < this.items.length) {
      const w = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      if (w.cancelled) continue;
      w.cancelled = true; // taken: a late cancel() must not touch the count
      this.size--;
      return w;
    }
    return undefined;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    this.size = 0;
  }
}

export class ConcurrencyLimiter {
  active = 0;
  private readonly queue = new WaitQueue();

  constructor(
    readonly maxActive: number,
    readonly maxQueued: number,
  ) {}

  get queued(): number {
    return this.queue.size;
  }

  /**
   * Runs start() now if a slot is free, queues it if the queue has room, else returns false
   * (the caller answers 429). Every started request must call release() exactly once.
   */
  enter(start: () => void): Ticket | false {
    if (this.active < this.maxActive && this.queue.size === 0) {
      this.active++;
      start();
      return NOOP_TICKET;
    }
    if (this.queue.size < this.maxQueued) return this.queue.push(start);
    return false;
  }

  release(): void {
    this.active--;
    const next = this.queue.shift();
    if (next) {
      this.active++;
      next.start();
    }
  }

  clear(): void {
    this.queue.clear();
  }
}

/**
 * Fixed windows anchored at the first call (as .NET creates its limiter lazily), one permit per
 * window; queued calls are served one per window boundary, oldest first.
 */
export class FixedWindowLimiter {
  private windowStart: number | undefined;
  private permits = 1;
  private readonly queue = new WaitQueue();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly windowMs: number,
    readonly maxQueued: number,
    private readonly now: () => number = Date.now,
  ) {}

  get queued(): number {
    return this.queue.size;
  }

  enter(start: () => void): Ticket | false {
    const now = this.now();
    this.windowStart ??= now;
    this.roll(now);
    if (this.permits > 0 && this.queue.size === 0) {
      this.permits--;
      start();
      return NOOP_TICKET;
    }
    if (this.queue.size < this.maxQueued) {
      const t = this.queue.push(start);
      this.schedule(now);
      return t;
    }
    return false;
  }

  /** Moves to the window containing `now`; a new window has one permit, given first to the queue. */
  private roll(now: number): void {
    const start = this.windowStart!;
    if (now < start + this.windowMs) return;
    this.windowStart = start + Math.floor((now - start) / this.windowMs) * this.windowMs;
    this.permits = 1;
    const next = this.queue.shift();
    if (next) {
      this.permits = 0;
      next.start();
    }
  }

  private schedule(now: number): void {
    if (this.timer || this.queue.size === 0) return;
    const wait = Math.max(1, this.windowStart! + this.windowMs - now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const t = this.now();
      this.roll(t);
      this.schedule(t);
    }, wait);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.clear();
  }
}
