import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { workspace } from "./helpers.js";

const EXAMPLES = resolve(dirname(fileURLToPath(import.meta.url)), "../../../examples");

test("examples/host.mjs runs a whole turn with the scripted provider", (t) => {
  const ws = workspace(t, []); // the example brings its own script
  const run = spawnSync(process.execPath, [join(EXAMPLES, "host.mjs")], {
    encoding: "utf8",
    env: {
      ...process.env,
      PARLEY_HOME: ws.env.PARLEY_HOME,
      PARLEY_CONFIG_DIR: ws.env.PARLEY_CONFIG_DIR,
    },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^connected to parley /m);
  assert.match(run.stdout, /^\[thinking\] The user wants to know what this folder is/m);
  assert.match(run.stdout, /^\[tool\] read_file \{"path":"README.md","limit":5\}$/m);
  assert.match(run.stdout, /^\[tool\] read_file done$/m);
  assert.match(run.stdout, /read README.md with the read_file tool/);
  assert.match(run.stdout, /^\[done\] end_turn, \d+ output tokens$/m);
});
