// The package as npm ships it: `npm pack` on a clean checkout (no dist/ yet), the tarball
// installed into an empty project, then used there by `require`, by `import`, and by TypeScript
// compiling against an ES2020 lib with skipLibCheck off.

import assert from "node:assert/strict";
import { type SpawnSyncOptions, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { before, after, test } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "parley-agent-client";
const TSC = join(PACKAGE, "node_modules", "typescript", "bin", "tsc");
// The npm that runs this test (npm test), else the one beside node.
const NPM = process.env.npm_execpath;

let work = "";
let packed: { filename: string; files: { path: string }[] };
let consumer = "";

function run(argv: string[], options: SpawnSyncOptions): string {
  const [program, ...args] =
    argv[0] === "npm" && NPM ? [process.execPath, NPM, ...argv.slice(1)] : argv;
  const done = spawnSync(program!, args, { encoding: "utf8", timeout: 300_000, ...options });
  assert.equal(done.status, 0, `${argv.join(" ")} failed:\n${done.stdout}\n${done.stderr}`);
  return String(done.stdout);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "parley-pack-"));
  // A clean checkout: the sources as committed, no dist/ or build/ left by earlier builds.
  const checkout = join(work, "checkout");
  cpSync(PACKAGE, checkout, {
    recursive: true,
    filter: (src) => !["node_modules", "dist", "build"].includes(basename(src)),
  });
  symlinkSync(join(PACKAGE, "node_modules"), join(checkout, "node_modules"), "dir");
  assert.ok(!existsSync(join(checkout, "dist")));
  const out = run(["npm", "pack", "--json", "--pack-destination", work], { cwd: checkout });
  packed = JSON.parse(out.slice(out.indexOf("[")))[0];

  consumer = join(work, "consumer");
  mkdirSync(consumer);
  writeFileSync(join(consumer, "package.json"), '{ "name": "consumer", "private": true }\n');
  run(["npm", "install", "--offline", "--no-audit", "--no-fund", join(work, packed.filename)], {
    cwd: consumer,
  });
});

after(() => rmSync(work, { recursive: true, force: true }));

test("npm pack on a clean checkout ships both builds, their types, LICENSE and README", () => {
  const files = new Set(packed.files.map((f) => f.path));
  for (const file of [
    "package.json",
    "README.md",
    "LICENSE",
    "dist/index.js",
    "dist/index.d.ts",
    "dist/cjs/index.js",
    "dist/cjs/index.d.ts",
    "dist/cjs/package.json",
    "dist/generated/types.d.ts",
  ]) {
    assert.ok(files.has(file), `${file} is not in the tarball`);
  }
  assert.ok(![...files].some((f) => f.startsWith("test/") || f.startsWith("build/")));
  const license = readFileSync(join(consumer, "node_modules", NAME, "LICENSE"), "utf8");
  assert.equal(license, readFileSync(join(PACKAGE, "../../LICENSE"), "utf8"));
});

test("the README links only to what the package holds or to full addresses", () => {
  const readme = readFileSync(join(consumer, "node_modules", NAME, "README.md"), "utf8");
  const files = new Set(packed.files.map((f) => f.path));
  for (const [, target] of readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)) {
    if (/^(https?:|#)/.test(target!)) continue;
    assert.ok(files.has(target!.replace(/^\.\//, "").split("#")[0]!), `README links to ${target}`);
  }
  assert.doesNotMatch(readme, /\.\.\//);
});

test("require() gets the CommonJS build, with the same exports as import", () => {
  const script = `
    const client = require(${JSON.stringify(NAME)});
    const error = new client.ParleyError("x", "y", { cause: 7 });
    if (!(error instanceof Error) || error.cause !== 7) throw new Error("ParleyError is broken");
    if (typeof client.spawnAgent !== "function") throw new Error("no spawnAgent");
    console.log(JSON.stringify(Object.keys(client).sort()));
  `;
  const fromRequire = run([process.execPath, "-e", script], { cwd: consumer });
  const fromImport = run(
    [
      process.execPath,
      "--input-type=module",
      "-e",
      `import * as client from ${JSON.stringify(NAME)};
       console.log(JSON.stringify(Object.keys(client).sort()));`,
    ],
    { cwd: consumer },
  );
  assert.deepEqual(JSON.parse(fromRequire), JSON.parse(fromImport));
  assert.ok(JSON.parse(fromImport).includes("ParleyRpcError"));
});

test("the declarations compile against an ES2020 lib without skipLibCheck, for ESM and CJS", () => {
  const types = join(consumer, "node_modules", "@types");
  mkdirSync(types, { recursive: true });
  symlinkSync(join(PACKAGE, "node_modules", "@types", "node"), join(types, "node"), "dir");
  const host = `
    const options: SpawnOptions = { args: ["--ephemeral"] };
    const error = new ParleyClientError("spawn_failed", "no", { cause: 1, stderr: [] });
    const codes: readonly ErrorCode[] = ERROR_CODES;
    export const used = [options, error.code, codes, typeof spawnAgent];
  `;
  writeFileSync(
    join(consumer, "esm.mts"),
    `import { ERROR_CODES, type ErrorCode, ParleyClientError, type SpawnOptions, spawnAgent } from "${NAME}";\n${host}`,
  );
  writeFileSync(
    join(consumer, "cjs.cts"),
    `import { ERROR_CODES, type ErrorCode, ParleyClientError, type SpawnOptions, spawnAgent } from "${NAME}";\n${host}`,
  );
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2020",
        lib: ["ES2020"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
      },
      files: ["esm.mts", "cjs.cts"],
    }),
  );
  run([process.execPath, TSC, "-p", consumer], { cwd: consumer });
});
