import assert from "node:assert/strict";
import { test } from "node:test";

import { FrameDecoder, encodeFrame } from "../dist/framing.js";

// Multi-byte characters, so a split can fall inside one; Content-Length counts bytes.
const BODIES = [
  '{"text":"héllo → wörld"}',
  '{"id":2,"result":{}}',
  `{"big":"${"ü".repeat(5000)}"}`,
];

for (const framing of ["content-length", "ndjson"] as const) {
  test(`${framing} frames come back whole however the bytes are split`, () => {
    const wire = Buffer.concat(BODIES.map((b) => encodeFrame(b, framing)));
    for (const size of [1, 2, 3, 7, 64, 4096, wire.length]) {
      const decoder = new FrameDecoder(framing);
      const got: string[] = [];
      for (let i = 0; i < wire.length; i += size)
        got.push(...decoder.push(wire.subarray(i, i + size)));
      assert.deepEqual(got, BODIES, `chunks of ${size} bytes`);
    }
  });
}

test("content-length headers are read case-insensitively, with other headers around", () => {
  const body = '{"ok":true}';
  const frame = `content-type: application/json\r\ncontent-LENGTH: ${body.length}\r\n\r\n${body}`;
  assert.deepEqual(new FrameDecoder("content-length").push(Buffer.from(frame)), [body]);
});

test("a header block without Content-Length is an error, not a hang", () => {
  const decoder = new FrameDecoder("content-length");
  assert.throws(() => decoder.push(Buffer.from("X-Other: 1\r\n\r\n{}")), /Content-Length/);
});
