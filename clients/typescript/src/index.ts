// parley-agent-client: drive Parley agent sessions from Node.
//
//   const agent = await spawnAgent({ env: { PARLEY_PROVIDER: "scripted", PARLEY_SCRIPT: path } });
//   const session = await agent.createSession({ cwd: process.cwd() });
//   const result = await agent.submitTurn(session.sessionId, "Summarise README.md", {
//     on: { "result/delta": (p) => process.stdout.write(p.text) },
//   });
//   await agent.shutdown();

export {
  type ApprovalHandler,
  ParleyAgent,
  type Prompt,
  type ShutdownOptions,
  type SpawnOptions,
  type SubmitOptions,
  spawnAgent,
} from "./agent.js";
export type { RequestOptions } from "./connection.js";
export {
  type ClientErrorCode,
  ParleyClientError,
  ParleyError,
  type ParleyErrorOptions,
  ParleyRpcError,
  type WireErrorCode,
} from "./errors.js";
export { type Framing } from "./framing.js";
export type { Notification, NotificationHandlers } from "./notifications.js";
export type { ProcessOptions } from "./server-process.js";
export { Turn, type TurnCallbacks } from "./turn.js";
export * from "./generated/types.js";
