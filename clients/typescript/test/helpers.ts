// Test fixtures: a private workspace per test and a real `parley serve` with the scripted
// provider. The server command is PARLEY_COMMAND (e.g. "/venv/bin/python -m parley") or
// `parley` on PATH, as for any host.

import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

import {
  type Notification,
  type ParleyAgent,
  type SpawnOptions,
  spawnAgent,
} from "parley-agent-client";

export type ScriptItem = Record<string, unknown> & { type: string };
export type Script = ScriptItem[][];

export const README = "Parley test readme: the answer is 42.\n";

/** A model that thinks, says something, reads README.md, then answers. */
export const READ_README: Script = [
  [
    { type: "thinking", text: "I should read the README first." },
    { type: "text", text: "Let me look." },
    { type: "tool_call", id: "call_readme", name: "read_file", input: { path: "README.md" } },
  ],
  [{ type: "text", text: "The README says the answer is 42." }],
];

/** A model that starts answering, then stalls for a minute: a turn to cancel. */
export const STALLS: Script = [
  [
    { type: "text", text: "Working on it." },
    { type: "text", text: " This is never sent.", delayMs: 60_000 },
  ],
];

export interface Workspace {
  root: string;
  /** The session's working directory; holds README.md. */
  project: string;
  /** PARLEY_* variables that keep the server inside `root` and on the scripted provider. */
  env: Record<string, string>;
}

/** A fresh directory tree for one test, removed after it. `config` is config.toml's text. */
export function workspace(t: TestContext, script: Script, config = ""): Workspace {
  const root = mkdtempSync(join(tmpdir(), "parley-ts-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const project = join(root, "project");
  const configDir = join(root, "config");
  mkdirSync(project);
  mkdirSync(configDir);
  writeFileSync(join(project, "README.md"), README);
  writeFileSync(join(configDir, "config.toml"), config);
  const scriptPath = join(root, "script.json");
  writeFileSync(scriptPath, JSON.stringify({ responses: script }));
  return {
    root,
    project,
    env: {
      PARLEY_PROVIDER: "scripted",
      PARLEY_SCRIPT: scriptPath,
      PARLEY_HOME: join(root, "home"),
      PARLEY_CONFIG_DIR: configDir,
      PARLEY_CONFIG: join(configDir, "config.toml"),
    },
  };
}

/** spawnAgent on the workspace, shut down after the test whatever happens. */
export async function startAgent(
  t: TestContext,
  ws: Workspace,
  options: SpawnOptions = {},
): Promise<ParleyAgent> {
  const agent = await spawnAgent({
    args: ["--ephemeral"],
    cwd: ws.root,
    ...options,
    env: { ...ws.env, ...options.env },
  });
  t.after(() => agent.shutdown());
  return agent;
}

/** Process ids whose parent is this process (the test's own `ps` left out). */
export function childPids(): number[] {
  const ps = spawnSync("ps", ["-A", "-o", "pid=,ppid="], { encoding: "utf8" });
  return ps.stdout
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number])
    .filter(([pid, ppid]) => ppid === process.pid && pid !== ps.pid)
    .map(([pid]) => pid);
}

/** Whether a process with this id exists. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The shape of a stream, whatever the chunking: methods (progress with its stage), with runs
 * of the same one collapsed. */
export function shape(notes: readonly Notification[]): string[] {
  const labels = notes.map((n) =>
    n.method === "progress" ? `progress:${n.params.stage}` : n.method,
  );
  return labels.filter((label, i) => label !== labels[i - 1]);
}
