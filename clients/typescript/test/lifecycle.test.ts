import assert from "node:assert/strict";
import { test } from "node:test";

import {
  PROTOCOL_VERSION,
  ParleyClientError,
  ParleyError,
  SCHEMA_VERSION,
  spawnAgent,
} from "parley-agent-client";

import { READ_README, STALLS, childPids, isRunning, startAgent, workspace } from "./helpers.js";

test("initialize negotiates the protocol and schema version these types come from", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  assert.equal(agent.server.protocolVersion, PROTOCOL_VERSION);
  assert.equal(agent.server.schemaVersion, SCHEMA_VERSION);
  assert.equal(agent.server.serverInfo.name, "parley");
  assert.ok(agent.server.capabilities.events?.includes("result/delta"));
  // Without an approval handler the server must never ask this host.
  assert.equal(agent.server.capabilities.approvals, undefined);
});

test("initialize declares approvals only when the host brings a handler", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws, {
    approvalHandler: async () => "allow_once",
    approvalOptions: ["allow_once", "reject_once"],
  });
  assert.deepEqual(agent.server.capabilities.approvals?.options, ["allow_once", "reject_once"]);
});

test("a protocol version the server does not speak fails clearly and leaves no process", async (t) => {
  const ws = workspace(t, READ_README);
  await assert.rejects(
    spawnAgent({ args: ["--ephemeral"], env: ws.env, protocolVersion: 99 }),
    (error: unknown) => {
      assert.ok(error instanceof ParleyClientError);
      assert.equal(error.code, "protocol_version_mismatch");
      assert.match(error.message, /speaks protocol 1; this client asked for 99/);
      return true;
    },
  );
  assert.deepEqual(childPids(), []);
});

test("a program that does not exist fails with spawn_failed naming it", async (t) => {
  const ws = workspace(t, READ_README);
  await assert.rejects(
    spawnAgent({ command: "/nonexistent/parley", env: ws.env }),
    (error: unknown) => {
      assert.ok(error instanceof ParleyError);
      assert.equal(error.code, "spawn_failed");
      assert.match(error.message, /\/nonexistent\/parley serve.*ENOENT/);
      // The hint names the package that installs the `parley` command.
      assert.match(error.message, /pipx install parley-agent-server/);
      return true;
    },
  );
});

test("a server that exits at start-up fails spawnAgent with its stderr", async (t) => {
  const ws = workspace(t, READ_README, 'permission_mode = "sometimes"\n');
  await assert.rejects(spawnAgent({ env: ws.env }), (error: unknown) => {
    assert.ok(error instanceof ParleyClientError);
    assert.equal(error.code, "connection_closed");
    assert.match(error.message, /exited with code 2/);
    assert.ok(
      error.stderr.some((line) => line.includes("permission_mode")),
      error.message,
    );
    return true;
  });
  assert.deepEqual(childPids(), []);
});

test("shutdown ends the server process and leaves nothing behind", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const pid = agent.pid;
  assert.ok(pid !== undefined && isRunning(pid));
  assert.equal(await agent.shutdown(), 0);
  assert.equal(isRunning(pid), false);
  assert.deepEqual(childPids(), []);
  // Once it is gone, requests fail with a typed error and shutting down again is harmless.
  await assert.rejects(agent.listSessions(), {
    name: "ParleyClientError",
    code: "connection_closed",
  });
  assert.equal(await agent.shutdown(), 0);
});

test("shutdown kills a server that no longer answers", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const pid = agent.pid!;
  process.kill(pid, "SIGSTOP"); // frozen: it can neither answer nor exit on EOF or SIGTERM
  const code = await agent.shutdown({ timeoutMs: 200, graceMs: 200 });
  assert.equal(code, null); // ended by a signal
  assert.equal(isRunning(pid), false);
  assert.deepEqual(childPids(), []);
});

test("a server killed mid-turn rejects the turn with connection_closed", async (t) => {
  const ws = workspace(t, STALLS);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Go");
  for await (const note of turn) {
    if (note.method === "result/delta") break;
  }
  process.kill(agent.pid!, "SIGKILL");
  await assert.rejects(turn.result, (error: unknown) => {
    assert.ok(error instanceof ParleyClientError);
    assert.equal(error.code, "connection_closed");
    assert.match(error.message, /killed by SIGKILL/);
    return true;
  });
});
