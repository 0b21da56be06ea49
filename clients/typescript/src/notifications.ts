// Notifications as values: a discriminated union keyed by method, typed callbacks, and an
// async queue to iterate them.

import type { NotificationMap, NotificationMethod } from "./generated/types.js";

/** One notification; narrow it by `method` to get typed `params`. */
export type Notification = {
  [M in NotificationMethod]: { method: M; params: NotificationMap[M] };
}[NotificationMethod];

/** Typed callbacks by method, e.g. `{ "result/delta": (p) => write(p.text) }`. */
export type NotificationHandlers = {
  [M in NotificationMethod]?: (params: NotificationMap[M]) => void;
};

/** Call the handler for `note.method`, if there is one. */
export function dispatchTo(handlers: NotificationHandlers, note: Notification): void {
  const handler = handlers[note.method] as ((params: unknown) => void) | undefined;
  handler?.(note.params);
}

/** An unbounded queue read by `for await`; `end()` finishes it, `fail()` makes it throw. */
export class NotificationQueue implements AsyncIterableIterator<Notification> {
  private readonly items: Notification[] = [];
  private readonly waiters: Array<{
    resolve: (r: IteratorResult<Notification>) => void;
    reject: (e: unknown) => void;
  }> = [];
  private done = false;
  private error: unknown = undefined;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(note: Notification): void {
    if (this.done) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: note, done: false });
    else this.items.push(note);
  }

  /** No more items: readers get what is queued, then the end (or `error`, if given). */
  end(error?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    for (const waiter of this.waiters.splice(0)) {
      if (error === undefined) waiter.resolve({ value: undefined, done: true });
      else waiter.reject(error);
    }
  }

  next(): Promise<IteratorResult<Notification>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.done) {
      if (this.error === undefined) return Promise.resolve({ value: undefined, done: true });
      const error = this.error;
      this.error = undefined; // throw once, then report the end
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Notification>> {
    this.items.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Notification> {
    return this;
  }
}
