// A complete minimal Parley host in JavaScript (ESM), on the parley-agent-client package.
//
//   (cd clients/typescript && npm ci && npm run build)    # once
//   node examples/host.mjs ["your prompt"]
//
// It spawns `parley serve` ($PARLEY_COMMAND, else `parley` on PATH) with the scripted provider
// and examples/scripts/hello.json, runs one turn in this folder, and streams what happens.
// In your own project: `import { spawnAgent } from "parley-agent-client";`

import { createInterface } from "node:readline/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { ParleyError, spawnAgent } from "../clients/typescript/dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const prompt = process.argv[2] ?? "What is in this folder?";

// Ask the person at the terminal; with no terminal, refuse (never allow silently).
async function approve(request, { signal }) {
  if (!process.stdin.isTTY) return "reject_once";
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const question = `Allow ${request.tool} ${JSON.stringify(request.input)}? [y/N] `;
    const answer = await rl.question(question, { signal });
    return answer.trim().toLowerCase().startsWith("y") ? "allow_once" : "reject_once";
  } finally {
    rl.close();
  }
}

const agent = await spawnAgent({
  args: ["--ephemeral"], // keep nothing on disk
  env: { PARLEY_PROVIDER: "scripted", PARLEY_SCRIPT: join(here, "scripts", "hello.json") },
  approvalHandler: approve,
});
try {
  console.log(`connected to ${agent.server.serverInfo.name} ${agent.server.serverInfo.version}`);
  const session = await agent.createSession({ cwd: here });
  const turn = agent.submitTurn(session.sessionId, prompt, {
    on: {
      "thinking/final": (p) => console.log(`[thinking] ${p.text}`),
      "result/delta": (p) => process.stdout.write(p.text),
      "tool/started": (p) => console.log(`\n[tool] ${p.name} ${JSON.stringify(p.input)}`),
      "tool/completed": (p) => console.log(`[tool] ${p.name} ${p.isError ? "failed" : "done"}`),
      error: (p) => console.log(`\n[error] ${p.code}: ${p.message}`),
    },
  });
  process.once("SIGINT", () => void turn.cancel()); // Ctrl-C stops the turn, not the host
  const result = await turn;
  console.log(`\n[done] ${result.stopReason}, ${result.usage.outputTokens ?? 0} output tokens`);
} catch (error) {
  // Every error from the package carries a stable code.
  if (error instanceof ParleyError) console.error(`parley: ${error.code}: ${error.message}`);
  else throw error;
  process.exitCode = 1;
} finally {
  await agent.shutdown(); // always: it never leaves the server running
}
