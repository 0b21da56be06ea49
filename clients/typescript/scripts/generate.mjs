#!/usr/bin/env node
// Generates src/generated/types.ts from the wire contract in schemas/ (v1-index.json, v1/).
//
//   node scripts/generate.mjs            write src/generated/types.ts
//   node scripts/generate.mjs --check    regenerate to a temp file; exit 1 if it differs
//   node scripts/generate.mjs --schemas DIR --out FILE    DIR holds v1-index.json and v1/
//
// One TypeScript type per schema name: every `$defs` entry of v1/definitions.json, the ErrorCode
// of v1/error-codes.json, and the title of every message file. A name is declared in one place;
// declared twice, generation fails. v1-index.json gives the method maps, so `request<M>()` and
// `on<M>()` are typed by method name. Only the JSON Schema keywords our schemas use are
// understood; any other keyword fails loudly rather than being mistyped.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const HERE = dirname(fileURLToPath(import.meta.url));
const PACKAGE = resolve(HERE, "..");
const DEFAULT_SCHEMAS = resolve(PACKAGE, "../../schemas");
const DEFAULT_OUT = resolve(PACKAGE, "src/generated/types.ts");
const INDEX = "v1-index.json";

// Keywords that only constrain values: shown in JSDoc, not in types.
const CONSTRAINTS = [
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minItems",
  "maxItems",
  "format",
];
const ANNOTATIONS = new Set(["$schema", "$id", "title", "description", "$defs", "default"]);
const TYPING = new Set([
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "$ref",
]);

class SchemaError extends Error {}

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Every named schema: name -> {schema, file, docs}. A name is declared once. */
class NameTable {
  constructor() {
    this.entries = new Map();
  }

  add(name, schema, file, doc) {
    const entry = this.entries.get(name);
    if (entry !== undefined) {
      throw new SchemaError(
        `${name} is declared in ${entry.file} and in ${file}; declare it once and refer to it`,
      );
    }
    this.entries.set(name, { schema, file, docs: doc ? [doc] : [] });
  }
}

/**
 * Reads the schema set: the index, then every file it names. `refs` maps a `$ref` as written in
 * a file (relative to that file) to the name of the type it points at.
 */
function collect(root) {
  const index = readJson(join(root, INDEX));
  const names = new NameTable();
  const titles = new Map(); // schemas-relative file -> the type its root declares
  const files = new Map(); // schemas-relative file -> parsed schema
  const read = (file) => {
    if (!files.has(file)) files.set(file, readJson(join(root, file)));
    return files.get(file);
  };
  const definitions = read(index.definitions);
  for (const [name, def] of Object.entries(definitions.$defs ?? {})) {
    if (def.title !== name)
      throw new SchemaError(`${index.definitions}#/$defs/${name} has title ${def.title}`);
    names.add(name, def, index.definitions, def.description);
  }
  const declareFile = (file) => {
    const schema = read(file);
    if (typeof schema.title !== "string") throw new SchemaError(`${file} has no title`);
    if (schema.$defs !== undefined) throw new SchemaError(`${file} declares $defs of its own`);
    if (!titles.has(file)) {
      titles.set(file, schema.title);
      names.add(schema.title, schema, file, schema.description);
    }
    return schema.title;
  };
  const errorCodes = declareFile(index.errorCodes);
  /** The type an index entry's schema location names; message files are declared on the way. */
  const at = (location, type) => {
    const [file, pointer] = location.split("#");
    const name = pointer === undefined ? declareFile(file) : pointer.split("/").pop();
    if (name !== type || !names.entries.has(name)) {
      throw new SchemaError(`${location} is not a declaration of ${type}`);
    }
    return name;
  };
  const method = ([name, spec]) => ({
    method: name,
    doc: spec.doc,
    params: at(spec.params, spec.paramsType),
    ...(spec.result === undefined ? {} : { result: at(spec.result, spec.resultType) }),
  });
  const requests = Object.entries(index.requests).map(method);
  const serverRequests = Object.entries(index.serverRequests).map(method);
  const notifications = Object.entries(index.notifications).map(method);
  const refs = (file) => (ref) => {
    const [target, pointer] = ref.split("#");
    const path = target === "" ? file : posix.join(posix.dirname(file), target);
    if (pointer === undefined && titles.has(path)) return titles.get(path);
    const match = /^\/\$defs\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(pointer ?? "");
    if (match && path === index.definitions && names.entries.has(match[1])) return match[1];
    throw new SchemaError(`${file}: cannot resolve $ref ${ref}`);
  };
  for (const entry of names.entries.values()) entry.ref = refs(entry.file);
  return { index, names, requests, serverRequests, notifications, errorCodes };
}

// --- schema -> TypeScript ------------------------------------------------------------------------

// Resolves a `$ref` of the schema being declared (relative to its file) to a type name.
let resolveRef = (ref) => {
  throw new SchemaError(`no schema is being declared, cannot resolve ${ref}`);
};

function typeOf(schema, where) {
  if (schema === true || (schema && Object.keys(schema).length === 0)) return "unknown";
  if (schema === false) return "never";
  for (const key of Object.keys(schema)) {
    if (!TYPING.has(key) && !ANNOTATIONS.has(key) && !CONSTRAINTS.includes(key)) {
      throw new SchemaError(`${where}: the generator does not understand keyword "${key}"`);
    }
  }
  if (schema.$ref !== undefined) return resolveRef(schema.$ref);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  for (const key of ["anyOf", "oneOf"]) {
    if (schema[key] !== undefined) {
      return schema[key].map((s, i) => wrap(typeOf(s, `${where}/${key}/${i}`))).join(" | ");
    }
  }
  if (schema.allOf !== undefined) {
    return schema.allOf.map((s, i) => wrap(typeOf(s, `${where}/allOf/${i}`))).join(" & ");
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.map((t) => wrap(typeForType(t, schema, where))).join(" | ");
}

function typeForType(type, schema, where) {
  switch (type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `${wrap(schema.items === undefined ? "unknown" : typeOf(schema.items, `${where}/items`))}[]`;
    case "object":
      return objectType(schema, where, "");
    case undefined:
      throw new SchemaError(`${where}: a schema needs a type, $ref, const, enum or anyOf`);
    default:
      throw new SchemaError(`${where}: unknown type "${type}"`);
  }
}

/** Parenthesise a union or intersection, so it can be an array's item or a union's member. */
function wrap(type) {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if ("{([<".includes(c)) depth++;
    else if ("})]>".includes(c)) depth--;
    else if (depth === 0 && (c === "|" || c === "&")) return `(${type})`;
  }
  return type;
}

function objectType(schema, where, indent) {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const extra = schema.additionalProperties;
  const names = Object.keys(props);
  if (names.length === 0) {
    if (extra === false) return "Record<string, never>";
    if (extra === undefined || extra === true) {
      // `{}` with no properties: an empty params/result object, or an open map.
      return schema.properties !== undefined ? "Record<string, never>" : "Record<string, unknown>";
    }
    return `Record<string, ${typeOf(extra, `${where}/additionalProperties`)}>`;
  }
  const inner = `${indent}  `;
  const lines = ["{"];
  for (const name of names) {
    const prop = props[name];
    lines.push(...jsdoc(prop.description, prop, inner));
    const key = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
    const optional = required.has(name) ? "" : "?";
    lines.push(`${inner}${key}${optional}: ${typeOf(prop, `${where}/properties/${name}`)};`);
  }
  if (extra !== undefined && extra !== false && extra !== true) {
    lines.push(`${inner}[key: string]: ${typeOf(extra, `${where}/additionalProperties`)};`);
  }
  lines.push(`${indent}}`);
  return lines.join("\n");
}

function jsdoc(text, schema, indent) {
  const lines = text ? text.split("\n") : [];
  for (const key of CONSTRAINTS) {
    if (schema?.[key] !== undefined) lines.push(`@${key} ${schema[key]}`);
  }
  if (lines.length === 0) return [];
  const safe = lines.map((l) => l.replaceAll("*/", "*\\/"));
  if (safe.length === 1) return [`${indent}/** ${safe[0]} */`];
  return [`${indent}/**`, ...safe.map((l) => `${indent} * ${l}`.trimEnd()), `${indent} */`];
}

function declaration(name, entry) {
  resolveRef = entry.ref;
  const doc = jsdoc(entry.docs.join("\n"), undefined, "");
  const schema = entry.schema;
  const isObject = schema.type === "object" && schema.$ref === undefined;
  const hasProps = Object.keys(schema.properties ?? {}).length > 0;
  const body =
    isObject && hasProps
      ? `export interface ${name} ${objectType(schema, name, "")}`
      : `export type ${name} = ${typeOf(schema, name)};`;
  return [...doc, body].join("\n");
}

function methodMap(name, doc, methods, entry) {
  const lines = [`/** ${doc} */`, `export interface ${name} {`];
  for (const m of methods) {
    lines.push(`  /** ${m.doc.replaceAll("*/", "*\\/")} */`);
    lines.push(`  ${JSON.stringify(m.method)}: ${entry(m)};`);
  }
  lines.push("}");
  return lines.join("\n");
}

function constList(name, type, values) {
  const items = values.map((v) => `  ${JSON.stringify(v)},`).join("\n");
  return `export const ${name} = [\n${items}\n] as const satisfies readonly ${type}[];`;
}

export function generate(schemasDir = DEFAULT_SCHEMAS) {
  const { index, names, requests, serverRequests, notifications, errorCodes } = collect(schemasDir);
  const out = [
    "// Generated by scripts/generate.mjs from schemas/v1 (by way of v1-index.json). Do not edit: run `npm run generate`.",
    "/* eslint-disable */",
    "",
    "/** The protocol major this package speaks. */",
    `export const PROTOCOL_VERSION = ${JSON.stringify(index.protocolVersion)};`,
    "/** The semver of the schema set these types come from. */",
    `export const SCHEMA_VERSION = ${JSON.stringify(index.schemaVersion)};`,
    "",
  ];
  for (const name of [...names.entries.keys()].sort()) {
    out.push(declaration(name, names.entries.get(name)), "");
  }
  out.push(
    methodMap("RequestMap", "Host -> server requests by method.", requests, (m) => {
      return `{ params: ${m.params}; result: ${m.result} }`;
    }),
    "",
    methodMap("ServerRequestMap", "Server -> host requests by method.", serverRequests, (m) => {
      return `{ params: ${m.params}; result: ${m.result} }`;
    }),
    "",
    methodMap(
      "NotificationMap",
      "Server -> host notifications' params by method.",
      notifications,
      (m) => m.params,
    ),
    "",
    "export type RequestMethod = keyof RequestMap;",
    "export type ServerRequestMethod = keyof ServerRequestMap;",
    "export type NotificationMethod = keyof NotificationMap;",
    "",
    constList(
      "REQUEST_METHODS",
      "RequestMethod",
      requests.map((m) => m.method),
    ),
    "",
    constList(
      "NOTIFICATION_METHODS",
      "NotificationMethod",
      notifications.map((m) => m.method),
    ),
    "",
    constList("ERROR_CODES", errorCodes, names.entries.get(errorCodes).schema.enum),
    "",
  );
  return out.join("\n");
}

function firstDifference(expected, actual) {
  const a = expected.split("\n");
  const b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `line ${i + 1}:\n  schemas say:  ${a[i] ?? "(end of file)"}\n  file has:     ${b[i] ?? "(end of file)"}`;
    }
  }
  return "";
}

function main() {
  const { values } = parseArgs({
    options: {
      check: { type: "boolean", default: false },
      schemas: { type: "string", default: DEFAULT_SCHEMAS },
      out: { type: "string", default: DEFAULT_OUT },
    },
  });
  let text;
  try {
    text = generate(resolve(values.schemas));
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    console.error(`generate: ${err.message}`);
    return 2;
  }
  if (!values.check) {
    writeFileSync(values.out, text);
    console.log(`wrote ${values.out}`);
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), "parley-generate-"));
  try {
    const fresh = join(dir, "types.ts");
    writeFileSync(fresh, text);
    let committed = "";
    try {
      committed = readFileSync(values.out, "utf8");
    } catch {
      // missing counts as drift
    }
    if (committed === readFileSync(fresh, "utf8")) {
      console.log(`${values.out} matches the schemas`);
      return 0;
    }
    console.error(
      `${values.out} has drifted from ${values.schemas}; run \`npm run generate\` and commit it.\n` +
        firstDifference(text, committed),
    );
    return 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
