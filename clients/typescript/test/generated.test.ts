import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATE = join(PACKAGE, "scripts", "generate.mjs");
const SCHEMAS = resolve(PACKAGE, "../../schemas/v1");

test("the committed generated types match schemas/v1", () => {
  const out = execFileSync(process.execPath, [GENERATE, "--check"], { encoding: "utf8" });
  assert.match(out, /matches the schemas/);
});

/** A copy of schemas/v1 with one file changed by `edit`. */
function schemasWith(t: { after(fn: () => void): void }, file: string, edit: (s: any) => void) {
  const dir = mkdtempSync(join(tmpdir(), "parley-schemas-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const sub of ["methods", "notifications", "server-requests"]) mkdirSync(join(dir, sub));
  const index = JSON.parse(readFileSync(join(SCHEMAS, "index.json"), "utf8"));
  const files = ["index.json", index.errorCodes as string];
  for (const group of ["requests", "serverRequests", "notifications"]) {
    for (const spec of Object.values(index[group]) as Array<Record<string, string>>) {
      files.push(spec.params!, ...(spec.result ? [spec.result] : []));
    }
  }
  for (const name of files) {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, name), "utf8"));
    if (name === file) edit(schema);
    writeFileSync(join(dir, name), JSON.stringify(schema));
  }
  return dir;
}

function check(schemas: string) {
  return spawnSync(process.execPath, [GENERATE, "--check", "--schemas", schemas], {
    encoding: "utf8",
  });
}

test("a schema change the committed types lack fails the check", (t) => {
  const dir = schemasWith(t, "methods/turn.submit.result.json", (s) => {
    s.properties.reply = { type: "integer" };
  });
  const run = check(dir);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /drifted/);
  assert.match(run.stderr, /reply: number;/);
});

test("one name with two shapes is refused rather than typed twice", (t) => {
  const dir = schemasWith(t, "methods/session.fork.result.json", (s) => {
    s.required.push("title");
  });
  const run = check(dir);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /SessionInfo has different shapes/);
});

test("a keyword the generator does not understand is refused", (t) => {
  const dir = schemasWith(t, "notifications/usage.json", (s) => {
    s.properties.model.not = { const: "" };
  });
  const run = check(dir);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /does not understand keyword "not"/);
});
