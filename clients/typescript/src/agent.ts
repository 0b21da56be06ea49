// `spawnAgent()` and `ParleyAgent`: start `parley serve`, initialize, drive sessions and turns.

import { randomUUID } from "node:crypto";

import { Connection, type RequestOptions } from "./connection.js";
import { ParleyClientError, ParleyRpcError } from "./errors.js";
import type { Framing } from "./framing.js";
import {
  type ApprovalDecision,
  type ApprovalRequestParams,
  type ApprovalResponse,
  type ClientCapabilities,
  type InitializeResult,
  type NotificationMap,
  type NotificationMethod,
  PROTOCOL_VERSION,
  type ProfileInfo,
  type ProviderListResult,
  type RequestMap,
  type RequestMethod,
  type SessionCreateParams,
  type SessionDetail,
  type SessionInfo,
  type SessionListParams,
  type SessionListResult,
  type ToolListResult,
  type TurnResult,
  type TurnSubmitParams,
} from "./generated/types.js";
import { type Notification, NotificationQueue } from "./notifications.js";
import { type ProcessOptions, ServerProcess } from "./server-process.js";
import { Turn, type TurnCallbacks } from "./turn.js";

export type Prompt = TurnSubmitParams["prompt"];

/** Decides an approval request: resolves to one of `request.options`. `signal` aborts when
 * the answer is no longer wanted: the server withdrew the request (answered elsewhere, timed out,
 * or the turn was cancelled), the host's own timeout passed, or the agent is shutting down.
 * A handler that throws is answered with an error, which the server takes as a rejection. */
export type ApprovalHandler = (
  request: ApprovalRequestParams,
  context: { signal: AbortSignal },
) => Promise<ApprovalDecision>;

export interface SpawnOptions extends ProcessOptions {
  /** Frames to speak; the server follows. Default "content-length". */
  framing?: Framing;
  /** Answers `approval/request`. Without one the server never asks: the session's permission
   * mode and rules decide alone. */
  approvalHandler?: ApprovalHandler;
  /** The decisions this host can offer. Default: all four. */
  approvalOptions?: ApprovalDecision[];
  /** Stop waiting for the handler after this long and answer "reject_once". Default: the
   * request's own `timeoutMs`. */
  approvalTimeoutMs?: number;
  /** Notification methods to receive. Default: all. */
  events?: NotificationMethod[];
  clientInfo?: { name: string; version?: string };
  /** The protocol major to ask for. Default: the one this package was generated for. */
  protocolVersion?: number;
  /** How long the handshake may take before the process is stopped. Default 30 s. */
  initializeTimeoutMs?: number;
}

export interface SubmitOptions extends TurnCallbacks {
  /** Host-chosen turn id. Default: a new unique id, so the turn is known before it starts. */
  turnId?: string;
  /** Aborting cancels the turn (its result then has stopReason "cancelled"). */
  signal?: AbortSignal;
}

export interface ShutdownOptions {
  /** How long to wait for the answer to agent/shutdown. Default 5 s. */
  timeoutMs?: number;
  /** How long each step of stopping the process (EOF, then SIGTERM) may take before the next
   * (SIGTERM, then SIGKILL). Default 2 s. */
  graceMs?: number;
}

const CLIENT_INFO = { name: "parley-typescript-client", version: "0.1.0" };
// After the process exits, how long its output may stay open (a grandchild holding the pipe)
// before the connection is closed anyway.
const OUTPUT_GRACE_MS = 1_000;

/** Spawn `parley serve`, initialize, and check that it speaks our protocol version. On any
 * failure the process is stopped before the promise rejects. */
export async function spawnAgent(options: SpawnOptions = {}): Promise<ParleyAgent> {
  const agent = new ParleyAgent(ServerProcess.start(options), options);
  try {
    await agent.initialize();
  } catch (error) {
    await agent.shutdown({ timeoutMs: 0 });
    throw error;
  }
  return agent;
}

export class ParleyAgent {
  /** The handshake's answer: server version, negotiated capabilities. */
  server!: InitializeResult;
  readonly connection: Connection;
  private readonly listeners = new Set<(note: Notification) => void>();
  private readonly iterators = new Set<NotificationQueue>();
  private readonly turns = new Map<string, Turn>();
  private readonly approvals = new Set<AbortController>();

  /** Use spawnAgent(). */
  constructor(
    private readonly serverProcess: ServerProcess,
    private readonly options: SpawnOptions,
  ) {
    const { child } = serverProcess;
    this.connection = new Connection(
      child.stdout,
      child.stdin,
      options.framing ?? "content-length",
      {
        notification: (method, params) => this.notified(method, params),
        request: (method, params, signal) => this.serverRequest(method, params, signal),
        ended: () => void this.closeWhenExited(),
      },
    );
    child.on("error", () => this.closeConnection());
    child.on("exit", () => setTimeout(() => this.closeConnection(), OUTPUT_GRACE_MS).unref());
  }

  /** The server's process id (undefined if it never started). */
  get pid(): number | undefined {
    return this.serverProcess.pid;
  }

  /** The last lines the server wrote to stderr (its log). */
  get stderr(): readonly string[] {
    return this.serverProcess.stderr;
  }

  // --- lifecycle -------------------------------------------------------------------------------

  /** @internal Run by spawnAgent. */
  async initialize(): Promise<InitializeResult> {
    const { options } = this;
    const wanted = options.protocolVersion ?? PROTOCOL_VERSION;
    const capabilities: ClientCapabilities = {};
    if (options.approvalHandler) {
      capabilities.approvals = options.approvalOptions ? { options: options.approvalOptions } : {};
    }
    if (options.events) capabilities.events = [...options.events];
    let result: InitializeResult;
    try {
      result = await withTimeout(
        this.request("agent/initialize", {
          protocolVersion: wanted,
          clientInfo: options.clientInfo ?? CLIENT_INFO,
          capabilities,
        }),
        options.initializeTimeoutMs ?? 30_000,
        () =>
          new ParleyClientError(
            "connection_closed",
            `\`${this.serverProcess.argv.join(" ")}\` did not answer agent/initialize in time`,
            { stderr: [...this.stderr] },
          ),
      );
    } catch (error) {
      if (error instanceof ParleyRpcError && error.code === "protocol_version_mismatch") {
        const supported = Array.isArray(error.data.supported) ? error.data.supported : ["?"];
        throw new ParleyClientError(
          "protocol_version_mismatch",
          `parley serve speaks protocol ${supported.join(", ")}; this client asked for ` +
            `${wanted}. Install a parley-agent-client that matches the installed Parley.`,
          { cause: error },
        );
      }
      throw error;
    }
    if (result.protocolVersion !== wanted) {
      throw new ParleyClientError(
        "protocol_version_mismatch",
        `parley serve answered with protocol ${result.protocolVersion}; this client speaks ${wanted}`,
      );
    }
    this.server = result;
    return result;
  }

  /** Ask the server to finish (in-flight turns are cancelled and stored), then make sure the
   * process ends: EOF, then SIGTERM, then SIGKILL. Resolves with its exit code once it is gone
   * (null if a signal ended it). Safe to call more than once. */
  async shutdown(options: ShutdownOptions = {}): Promise<number | null> {
    const { timeoutMs = 5_000, graceMs = 2_000 } = options;
    for (const controller of this.approvals) controller.abort();
    if (!this.connection.closed && !this.serverProcess.ended && timeoutMs > 0) {
      // Errors here (gone already, refused) change nothing: stopping the process settles it.
      await withTimeout(this.request("agent/shutdown", {}), timeoutMs, () => null).catch(() => {});
    }
    const code = await this.serverProcess.stop(graceMs);
    this.closeConnection();
    return code;
  }

  // --- requests ----------------------------------------------------------------------------------

  /** Any request, typed by method. */
  async request<M extends RequestMethod>(
    method: M,
    params: RequestMap[M]["params"],
    options?: RequestOptions,
  ): Promise<RequestMap[M]["result"]> {
    return (await this.connection.request(method, params, options)) as RequestMap[M]["result"];
  }

  createSession(params: SessionCreateParams = {}): Promise<SessionInfo> {
    return this.request("session/create", params);
  }

  /**
   * Open a stored session. With `afterSeq`, every stored notification after it is sent again
   * before the answer: to `onEvent`, and to every `on()` / `events()` listener.
   */
  async resumeSession(
    sessionId: string,
    options: { afterSeq?: number; onEvent?: (note: Notification) => void } = {},
  ): Promise<SessionInfo> {
    const { afterSeq, onEvent } = options;
    const forward = (note: Notification) => {
      if (note.params.sessionId === sessionId) onEvent?.(note);
    };
    this.listeners.add(forward);
    try {
      const params = afterSeq === undefined ? { sessionId } : { sessionId, afterSeq };
      return await this.request("session/resume", params);
    } finally {
      this.listeners.delete(forward);
    }
  }

  listSessions(params: SessionListParams = {}): Promise<SessionListResult> {
    return this.request("session/list", params);
  }

  getSession(sessionId: string): Promise<SessionDetail> {
    return this.request("session/get", { sessionId });
  }

  forkSession(
    sessionId: string,
    options: { atTurn?: number; newSessionId?: string } = {},
  ): Promise<SessionInfo> {
    return this.request("session/fork", { sessionId, ...options });
  }

  async deleteSession(sessionId: string): Promise<void> {
    await this.request("session/delete", { sessionId });
  }

  async listProfiles(): Promise<ProfileInfo[]> {
    return (await this.request("profile/list", {})).profiles;
  }

  getProfile(name: string): Promise<ProfileInfo> {
    return this.request("profile/get", { name });
  }

  listProviders(): Promise<ProviderListResult> {
    return this.request("provider/list", {});
  }

  /** The session's tools (built-in and MCP) and its MCP servers; starts servers not yet started. */
  listTools(sessionId: string): Promise<ToolListResult> {
    return this.request("tool/list", { sessionId });
  }

  // --- turns -------------------------------------------------------------------------------------

  /**
   * Run a turn. Await the returned Turn for its TurnResult; iterate it, or pass `onEvent` / `on`,
   * for its notifications in order. A turn that fails (provider error, cancel) still resolves:
   * see `stopReason` and `error`. It rejects only when the request itself fails (ParleyRpcError,
   * e.g. session_busy) or the connection is lost (ParleyClientError).
   */
  submitTurn(sessionId: string, prompt: Prompt, options: SubmitOptions = {}): Turn {
    const turnId = options.turnId ?? `turn_${randomUUID().replaceAll("-", "")}`;
    const key = turnKey(sessionId, turnId);
    const answer = this.request(
      "turn/submit",
      { sessionId, prompt, turnId },
      { signal: options.signal },
    );
    const turn = new Turn(sessionId, turnId, answer, options, () => this.cancel(sessionId, turnId));
    this.turns.set(key, turn);
    const forget = () => {
      if (this.turns.get(key) === turn) this.turns.delete(key);
    };
    answer.then(forget, forget);
    return turn;
  }

  /** Cancel a session's running turn (or the named one). Its submitTurn then resolves with
   * stopReason "cancelled". */
  async cancel(sessionId: string, turnId?: string): Promise<void> {
    await this.request("turn/cancel", turnId === undefined ? { sessionId } : { sessionId, turnId });
  }

  // --- notifications -----------------------------------------------------------------------------

  /** Call `callback` with the params of every `method` notification; returns an unsubscribe. */
  on<M extends NotificationMethod>(
    method: M,
    callback: (params: NotificationMap[M]) => void,
  ): () => void {
    return this.onNotification((note) => {
      if (note.method === method) callback(note.params as NotificationMap[M]);
    });
  }

  /** Call `callback` with every notification; returns an unsubscribe. */
  onNotification(callback: (note: Notification) => void): () => void {
    this.listeners.add(callback);
    return () => this.listeners.delete(callback);
  }

  /** Notifications from now on (optionally one session's) as an async iterator. It ends when
   * the connection does, or when the loop breaks out. */
  events(options: { sessionId?: string } = {}): AsyncIterableIterator<Notification> {
    const listener = (note: Notification) => {
      if (options.sessionId === undefined || note.params.sessionId === options.sessionId) {
        queue.push(note);
      }
    };
    const queue = new NotificationQueue(() => {
      this.listeners.delete(listener);
      this.iterators.delete(queue);
    });
    if (this.connection.closed) {
      queue.end();
    } else {
      this.listeners.add(listener);
      this.iterators.add(queue);
    }
    return queue;
  }

  // --- internals ---------------------------------------------------------------------------------

  private notified(method: string, params: unknown): void {
    const note = { method, params } as Notification;
    const { sessionId, turnId } = (params ?? {}) as { sessionId?: unknown; turnId?: unknown };
    if (typeof sessionId === "string" && typeof turnId === "string") {
      this.turns.get(turnKey(sessionId, turnId))?.deliver(note);
    }
    for (const listener of [...this.listeners]) {
      try {
        listener(note);
      } catch (error) {
        // A listener's bug must surface, as an EventEmitter's would, without breaking the stream.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private async serverRequest(
    method: string,
    params: unknown,
    withdrawn: AbortSignal,
  ): Promise<ApprovalResponse> {
    const handler = this.options.approvalHandler;
    if (method !== "approval/request" || handler === undefined) {
      throw new ParleyRpcError(method, -32601, `this host does not handle ${method}`, {
        code: "method_not_found",
      });
    }
    const request = params as ApprovalRequestParams;
    const controller = new AbortController();
    // The server stopped waiting (answered elsewhere, timed out, turn cancelled): close the dialog.
    withdrawn.addEventListener("abort", () => controller.abort(), { once: true });
    this.approvals.add(controller);
    let late = false;
    try {
      const decision = await withTimeout(
        handler(request, { signal: controller.signal }),
        this.options.approvalTimeoutMs ?? request.timeoutMs,
        () => {
          late = true;
          return "reject_once" as const;
        },
      );
      return { decision };
    } finally {
      // Only now, once the answer is settled, may the handler hear that it is not wanted.
      if (late) controller.abort();
      this.approvals.delete(controller);
    }
  }

  /** The output ended: give the process a moment to exit, so the error can say how it ended. */
  private async closeWhenExited(): Promise<void> {
    await this.serverProcess.wait(OUTPUT_GRACE_MS);
    this.closeConnection();
  }

  private closeConnection(): void {
    if (!this.connection.closed) {
      const code = this.serverProcess.failedToSpawn ? "spawn_failed" : "connection_closed";
      this.connection.close(
        new ParleyClientError(code, this.serverProcess.describeEnd(), { stderr: [...this.stderr] }),
      );
    }
    for (const queue of this.iterators) queue.end();
    this.iterators.clear();
  }
}

function turnKey(sessionId: string, turnId: string): string {
  return `${sessionId}\u0000${turnId}`;
}

/** `promise`, or what `onTimeout` returns (or throws, if it returns an Error) after `ms`. */
async function withTimeout<T, U>(
  promise: Promise<T>,
  ms: number,
  onTimeout: () => U,
): Promise<T | Exclude<U, Error>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Exclude<U, Error>>((resolve, reject) => {
    timer = setTimeout(() => {
      const outcome = onTimeout();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome as Exclude<U, Error>);
    }, ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
