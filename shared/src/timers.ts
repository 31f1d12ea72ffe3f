/** What a deadline is for: a link's setup, keepalive or liveness check, a trace's or a ping's answer. */
export type TimerKind = "link" | "trace" | "ping";

interface Deadline {
  readonly at: number;
  readonly kind: TimerKind;
  readonly id: number;
  /** False once replaced or cleared; the heap drops such entries lazily when they reach the top. */
  live: boolean;
}

/** The deadlines due at one instant, in the order the node handles them: ascending ids per kind. */
export interface DueTimers {
  readonly link: number[];
  readonly trace: number[];
  readonly ping: number[];
  readonly maintenance: boolean;
}

/**
 * Every deadline of a node in one min-heap, so `OverlayNode.nextTimeout()` is a peek instead of a scan
 * over links. One deadline per (kind, id): setting it again replaces it. The periodic maintenance has
 * a slot of its own because it only counts while the node has something to maintain.
 */
export class Timers {
  private heap: Deadline[] = [];
  private readonly current: Record<TimerKind, Map<number, Deadline>> = {
    link: new Map(),
    trace: new Map(),
    ping: new Map(),
  };
  private maintenanceAt = Number.POSITIVE_INFINITY;

  set(kind: TimerKind, id: number, at: number): void {
    this.clear(kind, id);
    const deadline: Deadline = { at, kind, id, live: true };
    this.current[kind].set(id, deadline);
    this.heap.push(deadline);
    this.siftUp(this.heap.length - 1);
    // Replaced deadlines linger until they surface; rebuild before they outnumber the live ones.
    if (this.heap.length > 64 && this.heap.length > 2 * this.liveCount()) {
      this.rebuild();
    }
  }

  private liveCount(): number {
    return this.current.link.size + this.current.trace.size + this.current.ping.size;
  }

  clear(kind: TimerKind, id: number): void {
    const deadline = this.current[kind].get(id);
    if (deadline === undefined) return;
    deadline.live = false;
    this.current[kind].delete(id);
  }

  /** When maintenance runs next (earlier wins: a change asks for it soon, the tick for later). */
  setMaintenance(at: number): void {
    this.maintenanceAt = at;
  }

  maintenanceSoon(at: number): void {
    this.maintenanceAt = Math.min(this.maintenanceAt, at);
  }

  /** The earliest deadline; maintenance counts only when `maintaining`. Infinity when none. */
  next(maintaining: boolean): number {
    const top = this.top();
    const first = top === undefined ? Number.POSITIVE_INFINITY : top.at;
    return maintaining ? Math.min(first, this.maintenanceAt) : first;
  }

  /** Removes and returns every deadline due at `now`. */
  takeDue(now: number): DueTimers {
    const due: DueTimers = { link: [], trace: [], ping: [], maintenance: now >= this.maintenanceAt };
    for (let top = this.top(); top !== undefined && top.at <= now; top = this.top()) {
      this.pop();
      this.current[top.kind].delete(top.id);
      due[top.kind].push(top.id);
    }
    due.link.sort((a, b) => a - b);
    due.trace.sort((a, b) => a - b);
    due.ping.sort((a, b) => a - b);
    return due;
  }

  /** The earliest live deadline, dropping dead ones on the way. */
  private top(): Deadline | undefined {
    while (this.heap.length > 0 && !this.heap[0]!.live) this.pop();
    return this.heap[0];
  }

  private pop(): void {
    const last = this.heap.pop()!;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    this.siftDown(0);
  }

  private rebuild(): void {
    this.heap = this.heap.filter((d) => d.live);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= item.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.at < heap[child]!.at) child++;
      if (heap[child]!.at >= item.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
