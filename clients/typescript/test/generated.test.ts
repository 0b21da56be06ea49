import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GENERATE = join(PACKAGE, "scripts", "generate.mjs");
const SCHEMAS = resolve(PACKAGE, "../../schemas");

test("the committed generated types match the schemas", () => {
  const out = execFileSync(process.execPath, [GENERATE, "--check"], { encoding: "utf8" });
  assert.match(out, /matches the schemas/);
});

/** A copy of schemas/ (v1-index.json, v1/) with one file changed by `edit`. */
function schemasWith(t: { after(fn: () => void): void }, file: string, edit: (s: any) => void) {
  const dir = mkdtempSync(join(tmpdir(), "parley-schemas-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(SCHEMAS, "v1"), join(dir, "v1"), { recursive: true });
  cpSync(join(SCHEMAS, "v1-index.json"), join(dir, "v1-index.json"));
  const schema = JSON.parse(readFileSync(join(dir, file), "utf8"));
  edit(schema);
  writeFileSync(join(dir, file), JSON.stringify(schema));
  return dir;
}

function check(schemas: string) {
  return spawnSync(process.execPath, [GENERATE, "--check", "--schemas", schemas], {
    encoding: "utf8",
  });
}

test("a schema change the committed types lack fails the check", (t) => {
  const dir = schemasWith(t, "v1/methods/turn.submit.result.json", (s) => {
    s.properties.reply = { type: "integer" };
  });
  const run = check(dir);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /drifted/);
  assert.match(run.stderr, /reply: number;/);
});

test("a shared type changed in definitions.json changes every message that uses it", (t) => {
  const dir = schemasWith(t, "v1/definitions.json", (s) => {
    s.$defs.SessionInfo.required.push("title");
  });
  const run = check(dir);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /drifted/);
  assert.match(run.stderr, /title: string;/);
});

test("one name declared twice is refused rather than typed twice", (t) => {
  const dir = schemasWith(t, "v1/methods/session.list.result.json", (s) => {
    s.title = "SessionInfo";
  });
  const run = check(dir);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /SessionInfo is declared in v1\/definitions.json and in v1\/methods/);
});

test("a reference that leads nowhere is refused", (t) => {
  const dir = schemasWith(t, "v1/methods/session.list.result.json", (s) => {
    s.properties.sessions.items.$ref = "../definitions.json#/$defs/Nowhere";
  });
  const run = check(dir);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /cannot resolve \$ref/);
});

test("a keyword the generator does not understand is refused", (t) => {
  const dir = schemasWith(t, "v1/notifications/usage.json", (s) => {
    s.properties.model.not = { const: "" };
  });
  const run = check(dir);
  assert.equal(run.status, 2);
  assert.match(run.stderr, /does not understand keyword "not"/);
});
