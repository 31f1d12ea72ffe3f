/**
 * A binary min-heap of tasks on virtual time: the simulator's clock and scheduler. Ties run in the
 * order they were scheduled.
 *
 * The heap keeps times and sequence numbers in typed arrays beside the array of tasks, so sifting
 * compares numbers that sit next to each other in memory instead of following a pointer to an entry
 * object per comparison: at 100,000 nodes the queue holds a few hundred thousand tasks and an
 * object per entry made its sifting a chain of cache misses (and one more allocation per task).
 */
export class EventQueue {
  private times = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private tasks: Array<(() => void) | undefined> = new Array(1024);
  private length = 0;
  private seq = 0;
  private halted = false;
  now = 0;

  get size(): number {
    return this.length;
  }

  at(time: number, run: () => void): void {
    if (this.length === this.times.length) this.grow();
    const at = Math.max(time, this.now);
    const seq = this.seq++;
    const { times, seqs, tasks } = this;
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < at || (pt === at && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      tasks[i] = tasks[parent];
      i = parent;
    }
    times[i] = at;
    seqs[i] = seq;
    tasks[i] = run;
  }

  /**
   * Runs tasks in time order until the queue is empty or the next task is after `until`, or a task
   * calls {@link halt}: then the clock stays at that task's time.
   */
  runUntil(until: number): void {
    this.halted = false;
    while (this.length > 0 && this.times[0]! <= until) {
      this.now = this.times[0]!;
      const run = this.pop();
      run();
      if (this.halted) return;
    }
    this.now = Math.max(this.now, until);
  }

  /** Ends the current `runUntil` after the task that calls it: nothing more to wait for. */
  halt(): void {
    this.halted = true;
  }

  /** Removes the first task and returns it. */
  private pop(): () => void {
    const { times, seqs, tasks } = this;
    const top = tasks[0]!;
    const n = --this.length;
    const lastTime = times[n]!;
    const lastSeq = seqs[n]!;
    const lastTask = tasks[n];
    tasks[n] = undefined;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        let child = left;
        if (right < n && (times[right]! < times[left]! || (times[right] === times[left] && seqs[right]! < seqs[left]!)))
          child = right;
        const ct = times[child]!;
        if (ct > lastTime || (ct === lastTime && seqs[child]! > lastSeq)) break;
        times[i] = ct;
        seqs[i] = seqs[child]!;
        tasks[i] = tasks[child];
        i = child;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      tasks[i] = lastTask;
    }
    return top;
  }

  private grow(): void {
    const size = 2 * this.times.length;
    const times = new Float64Array(size);
    times.set(this.times);
    const seqs = new Float64Array(size);
    seqs.set(this.seqs);
    this.times = times;
    this.seqs = seqs;
    this.tasks.length = size;
  }
}
