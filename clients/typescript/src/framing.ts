// Frames on the wire: LSP-style `Content-Length` headers (the default), or one JSON object per
// line (NDJSON). The server detects the framing from the first byte we send and answers in kind.

export type Framing = "content-length" | "ndjson";

const CRLF2 = Buffer.from("\r\n\r\n");
const LF = 0x0a;

export function encodeFrame(body: string, framing: Framing): Buffer {
  if (framing === "ndjson") return Buffer.from(`${body}\n`, "utf8");
  const bytes = Buffer.from(body, "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, "ascii"), bytes]);
}

/** Splits a byte stream into frame bodies. Chunks may end anywhere, even inside a character. */
export class FrameDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  // Content-length framing: the body length once its header block has been read.
  private bodyLength: number | null = null;
  // Chunks of a body still arriving, kept apart so a large frame is copied once, not per chunk.
  private parts: Buffer[] = [];
  private partsLength = 0;

  constructor(private readonly framing: Framing) {}

  /** Feed bytes; returns the bodies of the frames they complete, and throws on a bad header. */
  push(chunk: Buffer): string[] {
    return this.framing === "ndjson" ? this.lines(chunk) : this.headerFrames(chunk);
  }

  private lines(chunk: Buffer): string[] {
    const frames: string[] = [];
    let start = 0;
    let newline = chunk.indexOf(LF);
    while (newline !== -1) {
      this.parts.push(chunk.subarray(start, newline));
      const line = Buffer.concat(this.parts).toString("utf8").trim();
      this.parts = [];
      if (line) frames.push(line);
      start = newline + 1;
      newline = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) this.parts.push(chunk.subarray(start));
    return frames;
  }

  private headerFrames(chunk: Buffer): string[] {
    const frames: string[] = [];
    let data = chunk;
    for (;;) {
      if (this.bodyLength === null) {
        this.buffer = this.buffer.length ? Buffer.concat([this.buffer, data]) : data;
        data = Buffer.alloc(0);
        const end = this.buffer.indexOf(CRLF2);
        if (end === -1) return frames;
        this.bodyLength = contentLength(this.buffer.subarray(0, end).toString("ascii"));
        data = this.buffer.subarray(end + CRLF2.length);
        this.buffer = Buffer.alloc(0);
      }
      const missing = this.bodyLength - this.partsLength;
      if (data.length < missing) {
        if (data.length) {
          this.parts.push(data);
          this.partsLength += data.length;
        }
        return frames;
      }
      this.parts.push(data.subarray(0, missing));
      frames.push(Buffer.concat(this.parts).toString("utf8"));
      data = data.subarray(missing);
      this.parts = [];
      this.partsLength = 0;
      this.bodyLength = null;
    }
  }
}

function contentLength(headers: string): number {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
    const value = Number(line.slice(colon + 1).trim());
    if (Number.isSafeInteger(value) && value >= 0) return value;
    break;
  }
  throw new Error(`a frame header without a valid Content-Length: ${JSON.stringify(headers)}`);
}
