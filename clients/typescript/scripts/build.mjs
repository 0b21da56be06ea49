#!/usr/bin/env node
// Builds dist/: the ES modules (dist/*.js) and a CommonJS copy (dist/cjs/*.js), each with its
// declarations, so both `import` and `require` find the package (package.json "exports").
// `npm pack` and `npm publish` run this first (the "prepack" script), so a package made from a
// clean checkout always ships dist/.

import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function tsc(config) {
  const run = spawnSync(process.execPath, [TSC, "-p", join(PACKAGE, config)], { stdio: "inherit" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}

rmSync(join(PACKAGE, "dist"), { recursive: true, force: true });
tsc("tsconfig.json");
tsc("tsconfig.cjs.json");
// The package is "type": "module"; this marks the files below dist/cjs/ as CommonJS.
writeFileSync(join(PACKAGE, "dist", "cjs", "package.json"), '{ "type": "commonjs" }\n');
