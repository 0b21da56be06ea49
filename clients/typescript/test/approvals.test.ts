import assert from "node:assert/strict";
import { test } from "node:test";

import type { ApprovalRequestParams } from "parley-agent-client";

import { READ_README, README, startAgent, workspace } from "./helpers.js";

// read_file never needs approval on its own; this rule makes the server ask the host.
const ASK_BEFORE_READING = '[[rules]]\ntool = "read_file"\naction = "ask"\n';

test("an approval request is answered by the host's handler and the tool runs", async (t) => {
  const ws = workspace(t, READ_README, ASK_BEFORE_READING);
  const asked: ApprovalRequestParams[] = [];
  const agent = await startAgent(t, ws, {
    approvalHandler: async (request) => {
      asked.push(request);
      return "allow_once";
    },
  });
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Read it");
  const result = await turn;

  assert.equal(result.stopReason, "end_turn");
  assert.equal(asked.length, 1);
  const [request] = asked;
  assert.equal(request?.sessionId, session.sessionId);
  assert.equal(request?.turnId, turn.turnId);
  assert.equal(request?.tool, "read_file");
  assert.equal(request?.toolCallId, "call_readme");
  assert.deepEqual(request?.input, { path: "README.md" });
  assert.ok(request?.options.includes("allow_once"));
  const completed = turn.notifications.find((n) => n.method === "tool/completed");
  assert.ok(completed?.method === "tool/completed");
  assert.equal(completed.params.isError, false);
  assert.ok(completed.params.output.includes(README.trim()));
});

test("a rejected approval keeps the tool from running", async (t) => {
  const ws = workspace(t, READ_README, ASK_BEFORE_READING);
  const agent = await startAgent(t, ws, { approvalHandler: async () => "reject_once" });
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Read it");
  await turn;
  const completed = turn.notifications.find((n) => n.method === "tool/completed");
  assert.ok(completed?.method === "tool/completed");
  assert.equal(completed.params.isError, true);
  assert.equal(completed.params.output.includes(README.trim()), false);
});

test("a handler that does not answer in time is aborted and the call rejected", async (t) => {
  const ws = workspace(t, READ_README, ASK_BEFORE_READING);
  let aborted = false;
  const agent = await startAgent(t, ws, {
    approvalTimeoutMs: 100,
    approvalHandler: (_request, { signal }) =>
      new Promise((resolve) => {
        // A dialog the user never answers; closing it on abort is the host's job.
        signal.addEventListener("abort", () => {
          aborted = true;
          resolve("allow_once"); // too late: the client has already answered
        });
      }),
  });
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Read it");
  await turn;
  assert.equal(aborted, true);
  const completed = turn.notifications.find((n) => n.method === "tool/completed");
  assert.ok(completed?.method === "tool/completed");
  assert.equal(completed.params.isError, true);
});

test("a request the server stops waiting on is withdrawn and the handler aborted", async (t) => {
  const ws = workspace(t, READ_README, ASK_BEFORE_READING);
  let withdrawn = false;
  const agent = await startAgent(t, ws, {
    env: { PARLEY_APPROVAL_TIMEOUT: "0.3" }, // the server's own timeout, shorter than the host's
    approvalHandler: (_request, { signal }) =>
      new Promise((resolve) => {
        signal.addEventListener("abort", () => {
          withdrawn = true;
          resolve("allow_once"); // no longer wanted: never sent
        });
      }),
  });
  const session = await agent.createSession({ cwd: ws.project });
  const turn = agent.submitTurn(session.sessionId, "Read it");
  await turn;
  assert.equal(withdrawn, true);
  assert.ok(turn.notifications.some((n) => n.method === "approval/timeout"));
  const completed = turn.notifications.find((n) => n.method === "tool/completed");
  assert.ok(completed?.method === "tool/completed");
  assert.equal(completed.params.isError, true);
});
