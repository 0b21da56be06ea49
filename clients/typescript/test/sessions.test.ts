import assert from "node:assert/strict";
import { test } from "node:test";

import { type Notification, ParleyRpcError } from "parley-agent-client";

import { READ_README, startAgent, workspace } from "./helpers.js";

test("sessions are created with a chosen id, listed, read and deleted", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const created = await agent.createSession({
    sessionId: "docs-1",
    cwd: ws.project,
    title: "Docs",
    tags: ["docs"],
  });
  assert.equal(created.sessionId, "docs-1");
  assert.equal(created.cwd, ws.project);
  assert.equal(created.provider, "scripted");

  await agent.submitTurn("docs-1", "What does the README say?");
  const listed = await agent.listSessions({ tags: ["docs"] });
  assert.deepEqual(
    listed.sessions.map((s) => [s.sessionId, s.title, s.turnCount]),
    [["docs-1", "Docs", 1]],
  );
  const detail = await agent.getSession("docs-1");
  assert.equal(detail.messages?.[0]?.role, "user");
  assert.equal(detail.messages?.at(-1)?.role, "assistant");

  await agent.deleteSession("docs-1");
  await assert.rejects(agent.getSession("docs-1"), (error: unknown) => {
    assert.ok(error instanceof ParleyRpcError);
    assert.equal(error.code, "session_not_found");
    assert.equal(error.method, "session/get");
    assert.equal(typeof error.rpcCode, "number");
    return true;
  });
});

test("invalid params are refused with invalid_params and a pointer to the field", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  await assert.rejects(
    agent.createSession({ sessionId: "no spaces allowed" }),
    (error: unknown) => {
      assert.ok(error instanceof ParleyRpcError);
      assert.equal(error.code, "invalid_params");
      assert.equal(error.rpcCode, -32602);
      assert.equal(error.data.pointer, "/sessionId");
      return true;
    },
  );
});

test("resume with afterSeq replays the stored notifications after it, in order", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "What does the README say?");
  await turn;
  const original = turn.notifications;
  const afterSeq = 5;

  const replayed: Notification[] = [];
  const info = await agent.resumeSession(session.sessionId, {
    afterSeq,
    onEvent: (note) => replayed.push(note),
  });
  assert.equal(info.sessionId, session.sessionId);
  assert.equal(info.lastSeq, original.length);
  assert.deepEqual(
    replayed,
    original.filter((n) => n.params.seq > afterSeq),
  );

  // Without afterSeq nothing is replayed.
  const none: Notification[] = [];
  await agent.resumeSession(session.sessionId, { onEvent: (note) => none.push(note) });
  assert.deepEqual(none, []);
});

test("events() iterates one session's notifications from now on", async (t) => {
  const ws = workspace(t, READ_README);
  const agent = await startAgent(t, ws);
  const session = await agent.createSession({ cwd: ws.project });
  const stream = agent.events({ sessionId: session.sessionId });
  const turn = agent.submitTurn(session.sessionId, "Hi");
  const got: Notification[] = [];
  for await (const note of stream) {
    got.push(note);
    if (note.method === "result/final") break;
  }
  await turn;
  assert.deepEqual(got, turn.notifications);
});
