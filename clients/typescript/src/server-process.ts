// Starting and stopping the `parley serve` process.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createInterface } from "node:readline";

import { ParleyClientError } from "./errors.js";

export interface ProcessOptions {
  /** The program to run: an executable, or an argv prefix such as ["python", "-m", "parley"].
   * Default: $PARLEY_COMMAND (split on spaces), else `parley` on PATH. */
  command?: string | readonly string[];
  /** Extra arguments after `serve`, e.g. ["--ephemeral"]. */
  args?: readonly string[];
  /** Added to this process's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Each line the server writes to stderr (its log). */
  onStderr?: (line: string) => void;
}

const STDERR_LINES = 200;

/** The argv to run, from the options, then PARLEY_COMMAND, then `parley`. */
export function serverArgv(options: ProcessOptions): string[] {
  const env = { ...process.env, ...options.env };
  let prefix: string[];
  if (typeof options.command === "string") prefix = [options.command];
  else if (options.command !== undefined) prefix = [...options.command];
  else prefix = env.PARLEY_COMMAND?.trim() ? env.PARLEY_COMMAND.trim().split(/\s+/) : ["parley"];
  if (prefix.length === 0 || !prefix[0]) {
    throw new ParleyClientError("spawn_failed", "command must name a program to run");
  }
  return [...prefix, "serve", ...(options.args ?? [])];
}

export class ServerProcess {
  /** The last lines of the server's stderr. */
  readonly stderr: string[] = [];
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;
  private spawnError: Error | undefined;

  private constructor(
    readonly child: ChildProcessWithoutNullStreams,
    readonly argv: string[],
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        this.exitCode = code; // null when a signal ended it
        resolve(code);
      });
      child.on("error", (err) => {
        // Spawning failed (no such program): there will be no "exit" event.
        this.spawnError = err;
        if (child.pid === undefined) {
          this.exitCode = null;
          resolve(null);
        }
      });
    });
  }

  static start(options: ProcessOptions): ServerProcess {
    const argv = serverArgv(options);
    const [program, ...args] = argv as [string, ...string[]];
    const child = spawn(program, args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    const server = new ServerProcess(child, argv);
    const lines = createInterface({ input: child.stderr, crlfDelay: Infinity });
    lines.on("line", (line) => {
      server.stderr.push(line);
      if (server.stderr.length > STDERR_LINES) server.stderr.shift();
      options.onStderr?.(line);
    });
    // A failed write (the server died) is reported by the connection; never crash the host.
    child.stdin.on("error", () => {});
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the process has ended (or never started). */
  get ended(): boolean {
    return this.exitCode !== undefined;
  }

  /** Why the connection ended, in words a person can act on. */
  describeEnd(): string {
    const command = this.argv.join(" ");
    if (this.spawnError) {
      const code = (this.spawnError as NodeJS.ErrnoException).code;
      const hint =
        code === "ENOENT"
          ? "; install Parley (`pipx install parley-agent-server` or " +
            "`uv tool install parley-agent-server`) or pass `command` / set PARLEY_COMMAND"
          : "";
      return `could not start \`${command}\`: ${this.spawnError.message}${hint}`;
    }
    const tail = this.stderr.slice(-5).join("\n");
    const how = this.child.signalCode
      ? `was killed by ${this.child.signalCode}`
      : `exited with code ${this.child.exitCode ?? "?"}`;
    return `\`${command}\` ${this.ended ? how : "closed its output"}${tail ? `; its stderr ends:\n${tail}` : ""}`;
  }

  get failedToSpawn(): boolean {
    return this.spawnError !== undefined && this.child.pid === undefined;
  }

  /** Wait for the process to end; undefined if it is still running after `ms`. */
  async wait(ms: number): Promise<number | null | undefined> {
    if (this.ended) return this.exitCode;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** End the process: close its stdin (it exits on EOF), then SIGTERM, then SIGKILL.
   * Resolves when it is gone, with its exit code (null when killed by a signal). */
  async stop(graceMs: number): Promise<number | null> {
    if (!this.child.stdin.destroyed) this.child.stdin.end();
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if ((await this.wait(graceMs)) !== undefined) break;
      this.child.kill(signal);
    }
    await this.exited;
    // A grandchild may still hold the pipes open; they must not keep the host's event loop alive.
    if (!this.child.stdout.destroyed) this.child.stdout.destroy();
    if (!this.child.stderr.destroyed) this.child.stderr.destroy();
    return this.exitCode ?? null;
  }
}
