"""A stand-in for the `amp` CLI: Amp talks only to its own service, so its output is replayed
from recordings in its exact stream-json format (tests/agents/amp_streams.json).

It takes the arguments the real CLI takes in execute mode (`[threads continue ID] -x
--stream-json-thinking --stream-json-input --settings-file=F [--mode=M]`), refuses to run
without AMP_API_KEY as the real one does (it would wait for a browser login), reads the one
`user` line from stdin, logs what it was given to AMP_STANDIN_LOG, and writes the recording
named by the prompt. A recording step {"sleep": s} holds the turn; {"exit": n} dies mid-turn;
{"repeat": n, "step": {...}} writes that line n times, as fast as the pipe takes it.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path


def main(argv: list[str]) -> int:
    if not os.environ.get("AMP_API_KEY"):
        print("Not logged in: set AMP_API_KEY or run `amp login`", file=sys.stderr)
        return 1
    if "-x" not in argv or "--stream-json-input" not in argv:
        print("the stand-in only knows execute mode with stream-json input", file=sys.stderr)
        return 2
    thread = argv[2] if argv[:2] == ["threads", "continue"] else f"T-{uuid.uuid4()}"
    settings_file = next(a.split("=", 1)[1] for a in argv if a.startswith("--settings-file="))
    line = json.loads(sys.stdin.readline())
    prompt = "".join(b["text"] for b in line["message"]["content"] if b["type"] == "text")
    with open(os.environ["AMP_STANDIN_LOG"], "a") as log:
        record = {
            "argv": argv,
            "settings": json.loads(Path(settings_file).read_text()),
            "settings_mode": oct(os.stat(settings_file).st_mode & 0o777),
            "prompt": prompt,
        }
        log.write(json.dumps(record) + "\n")
    key = os.environ["AMP_API_KEY"]
    print(f"amp: starting with key {key} (stderr is for diagnostics)", file=sys.stderr, flush=True)
    print("not json: a stray line on stdout", flush=True)
    streams = json.loads((Path(__file__).parent / "amp_streams.json").read_text())
    for step in streams[prompt]:
        if "sleep" in step:
            time.sleep(step["sleep"])
            continue
        if "exit" in step:
            return int(step["exit"])
        text = json.dumps(step.get("step", step)).replace("{thread}", thread)
        sys.stdout.write((text + "\n") * step.get("repeat", 1))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
