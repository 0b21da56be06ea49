import assert from "node:assert/strict";
import { test } from "node:test";

import { type Notification, ParleyRpcError } from "parley-agent-client";

import { READ_README, README, STALLS, shape, startAgent, workspace } from "./helpers.js";

const EXPECTED_SHAPE = [
  "progress:turn_started",
  "progress:model_request",
  "thinking/delta",
  "thinking/final",
  "result/delta",
  "usage",
  "tool/started",
  "tool/completed",
  "progress:model_request",
  "result/delta",
  "usage",
  "result/final",
];

test("a turn streams every notification in order to callbacks and the iterator, then resolves", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });

  const seen: Notification[] = [];
  const deltas: string[] = [];
  const tools: string[] = [];
  const everywhere: Notification[] = [];
  agent.onNotification((note) => everywhere.push(note));
  const turn = agent.submitTurn(session.sessionId, "What does the README say?", {
    onEvent: (note) => seen.push(note),
    on: {
      "result/delta": (p) => deltas.push(p.text),
      "tool/completed": (p) => tools.push(`${p.name}:${p.isError}:${p.output}`),
    },
  });
  const iterated: Notification[] = [];
  for await (const note of turn) iterated.push(note);
  const result = await turn;

  assert.equal(result.stopReason, "end_turn");
  assert.equal(result.turnId, turn.turnId);
  assert.equal(result.reply, "Let me look.\n\nThe README says the answer is 42.");
  assert.deepEqual(shape(seen), EXPECTED_SHAPE);
  // The iterator, the callbacks and the connection-wide listener saw the same stream.
  assert.deepEqual(iterated, seen);
  assert.deepEqual(everywhere, seen);
  assert.deepEqual(turn.notifications, seen);
  // seq starts at 1 and rises by one; every notification names this session and turn.
  assert.deepEqual(
    seen.map((n) => n.params.seq),
    seen.map((_, i) => i + 1),
  );
  assert.ok(seen.every((n) => n.params.sessionId === session.sessionId));
  assert.ok(seen.every((n) => n.params.turnId === turn.turnId));
  // The reply is exactly the deltas, and result/final carries it too.
  assert.equal(deltas.join(""), result.reply);
  const final = seen.at(-1);
  assert.ok(final?.method === "result/final");
  assert.equal(final.params.text, result.reply);
  assert.deepEqual(tools, [`read_file:false:1\t${README.trimEnd()}`]);
});

test("newline-delimited framing carries a whole turn too", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws, { framing: "ndjson" });
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Hi");
  const result = await turn;
  assert.equal(result.stopReason, "end_turn");
  assert.deepEqual(shape(turn.notifications), EXPECTED_SHAPE);
});

test("iterating after the turn ended still yields all of its notifications", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Hi");
  await turn;
  const late: Notification[] = [];
  for await (const note of turn) late.push(note);
  assert.deepEqual(shape(late), EXPECTED_SHAPE);
});

test("cancel ends a running turn with stopReason cancelled and an error notification", async (t) => {
  const ws = workspace(t, STALLS);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Go");
  const seen: Notification[] = [];
  for await (const note of turn) {
    seen.push(note);
    if (note.method === "result/delta") await turn.cancel();
  }
  const result = await turn;
  assert.equal(result.stopReason, "cancelled");
  assert.equal(result.error?.code, "cancelled");
  assert.equal(result.reply, "Working on it.");
  const last = turn.notifications.at(-1);
  assert.ok(last?.method === "error");
  assert.equal(last.params.code, "cancelled");
  assert.deepEqual(shape(seen), [
    "progress:turn_started",
    "progress:model_request",
    "result/delta",
    "error",
  ]);
  // The session is free again.
  assert.equal((await agent.getSession(session.sessionId)).runningTurnId, undefined);
});

test("aborting a turn's signal cancels it on the server", async (t) => {
  const ws = workspace(t, STALLS);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const controller = new AbortController();
  const turn = agent.submitTurn(session.sessionId, "Go", {
    signal: controller.signal,
    on: { "result/delta": () => controller.abort() },
  });
  const result = await turn;
  assert.equal(result.stopReason, "cancelled");
});

test("a second turn on a busy session is refused with session_busy", async (t) => {
  const ws = workspace(t, STALLS);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const first = agent.submitTurn(session.sessionId, "Go");
  for await (const note of first) {
    if (note.method === "result/delta") break;
  }
  const second = agent.submitTurn(session.sessionId, "And again");
  await assert.rejects(second.result, (error: unknown) => {
    assert.ok(error instanceof ParleyRpcError);
    assert.equal(error.code, "session_busy");
    assert.equal(error.method, "turn/submit");
    return true;
  });
  // Iterating a refused turn throws the same error.
  await assert.rejects(async () => {
    for await (const _ of second) {
      // no notifications: the turn never started
    }
  }, ParleyRpcError);
  await agent.cancel(session.sessionId);
  assert.equal((await first).stopReason, "cancelled");
});

test("a callback that throws cancels its turn, which rejects with that error", async (t) => {
  const ws = workspace(t, STALLS);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const bug = new Error("renderer bug");
  const turn = agent.submitTurn(session.sessionId, "Go", {
    on: {
      "result/delta": () => {
        throw bug;
      },
    },
  });
  await assert.rejects(turn.result, (error) => error === bug);
  // The server cancelled the turn: the session takes a new one.
  const info = await agent.getSession(session.sessionId);
  assert.equal(info.runningTurnId, undefined);
});
