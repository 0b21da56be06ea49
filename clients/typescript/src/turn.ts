// A running turn: await it for the result, or iterate it for its notifications.

import type { TurnResult } from "./generated/types.js";
import {
  type Notification,
  type NotificationHandlers,
  NotificationQueue,
  dispatchTo,
} from "./notifications.js";

export interface TurnCallbacks {
  /** Every notification of the turn, in order. */
  onEvent?: (note: Notification) => void;
  /** Typed callbacks by method. */
  on?: NotificationHandlers;
}

/**
 * `await turn` gives the TurnResult once the turn ends; `for await (const n of turn)` gives its
 * notifications in order (from the first, whenever iteration starts) and ends with the turn.
 * Every notification has arrived by the time the result does: the server sends the turn's
 * `result/final` or `error` before its answer.
 *
 * A callback that throws stops further callbacks and cancels the turn, and the turn then
 * rejects with that error.
 */
export class Turn implements PromiseLike<TurnResult>, AsyncIterable<Notification> {
  /** The turn's notifications so far. */
  readonly notifications: Notification[] = [];
  readonly result: Promise<TurnResult>;
  private readonly readers = new Set<NotificationQueue>();
  private finished = false;
  private failure: unknown = undefined;
  private callbackError: { error: unknown } | null = null;

  constructor(
    readonly sessionId: string,
    readonly turnId: string,
    answer: Promise<TurnResult>,
    private readonly callbacks: TurnCallbacks,
    private readonly requestCancel: () => Promise<void>,
  ) {
    this.result = answer.then(
      (result) => {
        this.finish(this.callbackError?.error);
        if (this.callbackError) throw this.callbackError.error;
        return result;
      },
      (error: unknown) => {
        this.finish(error);
        throw error;
      },
    );
    // A host that only iterates must not see an unhandled rejection; the iterator throws it.
    this.result.catch(() => {});
  }

  then<A = TurnResult, B = never>(
    onfulfilled?: ((value: TurnResult) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.result.then(onfulfilled, onrejected);
  }

  /** Ask the server to cancel this turn; the result then has stopReason "cancelled". */
  cancel(): Promise<void> {
    return this.requestCancel();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Notification> {
    const reader: NotificationQueue = new NotificationQueue(() => this.readers.delete(reader));
    for (const note of this.notifications) reader.push(note);
    if (this.finished) reader.end(this.failure);
    else this.readers.add(reader);
    return reader;
  }

  /** @internal A notification of this turn arrived. */
  deliver(note: Notification): void {
    this.notifications.push(note);
    for (const reader of this.readers) reader.push(note);
    if (this.callbackError) return;
    try {
      this.callbacks.onEvent?.(note);
      if (this.callbacks.on) dispatchTo(this.callbacks.on, note);
    } catch (error) {
      this.callbackError = { error };
      this.requestCancel().catch(() => {});
    }
  }

  private finish(error: unknown): void {
    this.finished = true;
    this.failure = error;
    for (const reader of this.readers) reader.end(this.failure);
    this.readers.clear();
  }
}
