// Errors a host sees. Every one carries a stable string `code`: the wire's `error.data.code`
// for answers from the server, or one of ClientErrorCode for failures on this side.

import type { ErrorCode } from "./generated/types.js";

/** A code this package raises itself: the process or the connection failed. */
export type ClientErrorCode = "spawn_failed" | "connection_closed" | "protocol_version_mismatch";

/** Codes the server may send (schemas/v1/error-codes.json); unknown future codes arrive as
 * plain strings. */
export type WireErrorCode = ErrorCode;

/** What caused an error. Declared here rather than taken from ES2022's `ErrorOptions`, so these
 * declarations compile against any `lib` a host's project uses. */
export interface ParleyErrorOptions {
  cause?: unknown;
}

/** Base class: catch this to catch every error from this package. */
export class ParleyError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ParleyErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An error answer from the server. `code` is `error.data.code`, `rpcCode` the JSON-RPC number. */
export class ParleyRpcError extends ParleyError {
  declare readonly code: WireErrorCode | (string & {});
  readonly rpcCode: number;
  readonly method: string;
  /** `error.data`: the code plus details, e.g. `pointer` for invalid_params. */
  readonly data: Record<string, unknown>;

  constructor(method: string, rpcCode: number, message: string, data: unknown) {
    const details = isRecord(data) ? data : {};
    super(typeof details.code === "string" ? details.code : "internal", message);
    this.rpcCode = rpcCode;
    this.method = method;
    this.data = details;
  }
}

/** The server process could not be started, went away, or speaks another protocol. */
export class ParleyClientError extends ParleyError {
  declare readonly code: ClientErrorCode;
  /** The last lines the server wrote to stderr, when it may explain the failure. */
  readonly stderr: readonly string[];

  constructor(
    code: ClientErrorCode,
    message: string,
    options?: ParleyErrorOptions & { stderr?: readonly string[] },
  ) {
    super(code, message, options);
    this.stderr = options?.stderr ?? [];
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
