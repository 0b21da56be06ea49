// JSON-RPC 2.0 over a pair of byte streams: requests with promises, notifications, and the
// requests the server sends us. Knows nothing of Parley's methods.

import type { Readable, Writable } from "node:stream";

import { ParleyClientError, ParleyRpcError, isRecord } from "./errors.js";
import { FrameDecoder, type Framing, encodeFrame } from "./framing.js";

type Id = number | string;

interface Pending {
  method: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

export interface ConnectionHandlers {
  notification(method: string, params: unknown): void;
  /** Answers a server -> host request; a throw becomes an error answer. `signal` aborts when
   * the server withdraws the request (`$/cancelRequest`): it no longer wants an answer. */
  request(method: string, params: unknown, signal: AbortSignal): Promise<unknown>;
  /** The streams ended or failed: nothing more will arrive. The owner calls `close()` with
   * the error that explains it best. */
  ended(reason: string): void;
}

export interface RequestOptions {
  /** Aborting sends `$/cancelRequest`; the server's answer (for turn/submit, a result with
   * stopReason "cancelled") still settles the promise. */
  signal?: AbortSignal;
}

export class Connection {
  private nextId = 1;
  private readonly pending = new Map<Id, Pending>();
  private readonly answering = new Map<Id, AbortController>();
  private readonly decoder: FrameDecoder;
  private closedError: ParleyClientError | null = null;

  constructor(
    input: Readable,
    private readonly output: Writable,
    readonly framing: Framing,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.decoder = new FrameDecoder(framing);
    input.on("data", (chunk: Buffer) => this.receive(chunk));
    input.on("end", () => handlers.ended("the server closed its output"));
    input.on("error", (err) => handlers.ended(`reading from the server failed: ${err.message}`));
    output.on("error", (err) => handlers.ended(`writing to the server failed: ${err.message}`));
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  request(method: string, params: unknown, options: RequestOptions = {}): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const { signal } = options;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => this.notify("$/cancelRequest", { id });
      const settle = () => signal?.removeEventListener("abort", onAbort);
      this.pending.set(id, {
        method,
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      this.send({ jsonrpc: "2.0", id, method, params });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  /** Fail every pending request with `error`; later requests fail with it at once. The first
   * call wins. */
  close(error: ParleyClientError): void {
    if (this.closedError) return;
    this.closedError = error;
    for (const pending of this.pending.values()) pending.reject(this.closedError);
    this.pending.clear();
  }

  private fail(reason: string): void {
    this.close(new ParleyClientError("connection_closed", reason));
  }

  private send(message: Record<string, unknown>): void {
    if (this.closedError) return;
    this.output.write(encodeFrame(JSON.stringify(message), this.framing));
  }

  private receive(chunk: Buffer): void {
    let bodies: string[];
    try {
      bodies = this.decoder.push(chunk);
    } catch (err) {
      this.fail(`the server sent a broken frame: ${(err as Error).message}`);
      return;
    }
    for (const body of bodies) {
      let message: unknown;
      try {
        message = JSON.parse(body);
      } catch {
        this.fail(`the server sent a frame that is not JSON: ${body.slice(0, 80)}`);
        return;
      }
      if (isRecord(message)) this.dispatch(message);
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    const { id, method } = message;
    if (typeof method === "string") {
      if (id !== undefined && id !== null) void this.answer(id as Id, method, message.params);
      else if (method === "$/cancelRequest") this.withdrawn(message.params);
      else this.handlers.notification(method, message.params);
      return;
    }
    const pending = this.pending.get(id as Id);
    if (pending === undefined) return; // an answer to a request we already gave up on
    this.pending.delete(id as Id);
    if (isRecord(message.error)) {
      const { code, message: text, data } = message.error;
      pending.reject(
        new ParleyRpcError(pending.method, Number(code), String(text ?? "error"), data),
      );
    } else {
      pending.resolve(message.result);
    }
  }

  private withdrawn(params: unknown): void {
    const id = isRecord(params) ? (params.id as Id) : undefined;
    if (id === undefined) return;
    this.answering.get(id)?.abort();
  }

  private async answer(id: Id, method: string, params: unknown): Promise<void> {
    const controller = new AbortController();
    this.answering.set(id, controller);
    try {
      const result = await this.handlers.request(method, params, controller.signal);
      if (!controller.signal.aborted) this.send({ jsonrpc: "2.0", id, result });
    } catch (err) {
      if (controller.signal.aborted) return;
      const error =
        err instanceof ParleyRpcError
          ? { code: err.rpcCode, message: err.message, data: err.data }
          : { code: -32603, message: `host handler failed: ${(err as Error).message}` };
      this.send({ jsonrpc: "2.0", id, error });
    } finally {
      this.answering.delete(id);
    }
  }
}
