"""`parley daemon` measured side by side with a bare FastAPI app (bench/bare_fastapi.py).

python bench/http_daemon.py startup [RUNS]      spawn -> first GET /api/v1/health answer
python bench/http_daemon.py requests [SECONDS]  requests/s with wrk: /health (both servers) and
                                                GET /sessions/{id} (the daemon)
python bench/http_daemon.py sse [SUBSCRIBERS] [DELTAS] [PACE_MS] [PROCESSES]
                                            N SSE subscribers on one session, a turn of DELTAS
                                            deltas one every PACE_MS: every delta reaches every
                                            subscriber? latency from the provider's yield to the
                                            subscriber's read; the daemon's peak RSS. The
                                            subscribers are raw sockets in PROCESSES reader
                                            processes (bench/sse_readers.py; default 2)

wrk comes from Debian (apt-get install wrk); it is not needed by the tests. (Not named
http.py: a script in bench/ of that name would shadow the standard library's http package for
every script run from here.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from harness import ROOT, bench_env, compile_sources, report

BENCH = Path(__file__).resolve().parent


def spawn(kind: str, env: dict[str, str], url_file: Path, *entry: str) -> subprocess.Popen[bytes]:
    if kind == "daemon":
        argv = [*(entry or ("-m", "parley")), "daemon", "--port", "0", "--url-file", str(url_file)]
    else:
        argv = [str(BENCH / "bare_fastapi.py"), str(url_file)]
    return subprocess.Popen(
        [sys.executable, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_url(url_file: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while not (url_file.exists() and url_file.read_text().endswith("\n")):
        if time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.001)
    return url_file.read_text().strip()


def get(url: str, data: dict[str, Any] | None = None) -> Any:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        return json.loads(answer.read())


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(60)


# --- start-up -------------------------------------------------------------------------------


def startup(runs: int) -> None:
    """Spawn -> first health answer, and for the daemon also spawn -> first answer from the
    full API (GET /sessions, asked at the same moment as health): the front door answers
    health while FastAPI and the engine load (src/parley/doors/http/front.py)."""
    load = os.getloadavg()[0]
    for kind in ("bare FastAPI", "daemon"):
        times, full = [], []
        for i in range(runs):
            env = bench_env()
            url_file = Path(env["PARLEY_HOME"]) / f"url-{i}"
            began = time.monotonic()
            process = spawn("daemon" if kind == "daemon" else "bare", env, url_file)
            url = wait_url(url_file)
            if kind == "daemon":
                with ThreadPoolExecutor(1) as pool:
                    sessions = pool.submit(get, url + "/api/v1/sessions")
                    get(url + "/api/v1/health")
                    times.append((time.monotonic() - began) * 1000)
                    sessions.result()
                    full.append((time.monotonic() - began) * 1000)
            else:
                get(url + "/api/v1/health")
                times.append((time.monotonic() - began) * 1000)
            stop(process)
        report(f"{kind}: spawn -> first /api/v1/health", times, "ms", "daemon <= 400 ms")
        if full:
            report(f"{kind}: spawn -> first GET /api/v1/sessions", full, "ms", "(no target)")
    print(f"load average at the start: {load:.1f}")


# --- requests/s ----------------------------------------------------------------------------


def wrk(url: str, seconds: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found, out
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert non2xx is None, out
    return float(found.group(1))


def requests(seconds: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("needs wrk: apt-get install wrk")
    script = {"responses": [[{"type": "text", "text": "Hello there."}]]}
    env = bench_env(script)
    home = Path(env["PARLEY_HOME"])
    bare = spawn("bare", env, home / "bare-url")
    daemon = spawn("daemon", env, home / "daemon-url")
    try:
        bare_url, daemon_url = wait_url(home / "bare-url"), wait_url(home / "daemon-url")
        api = daemon_url + "/api/v1"
        session = get(api + "/sessions", {"cwd": str(home)})["metadata"]["session_id"]
        get(api + f"/sessions/{session}/execute", {"prompt": "hi"})
        rounds = []
        for _ in range(5):  # alternate, so both see the same machine
            load = os.getloadavg()[0]
            b = wrk(bare_url + "/api/v1/health", seconds)
            d = wrk(api + "/health", seconds)
            s = wrk(api + f"/sessions/{session}", seconds)
            rounds.append((b, d, s))
            print(
                f"GET /api/v1/health: bare FastAPI {b:,.0f}/s, daemon {d:,.0f}/s "
                f"({100 * d / b:.0f}%; target >= 80%); GET /sessions/{{id}} {s:,.0f}/s "
                f"(target >= 3,000/s); load average {load:.1f}"
            )
        b, d, s = (statistics.median(r[i] for r in rounds) for i in range(3))
        ratio = statistics.median(r[1] / r[0] for r in rounds)
        print(
            f"medians: bare {b:,.0f}/s, daemon {d:,.0f}/s (per round {100 * ratio:.0f}%), "
            f"GET /sessions/{{id}} {s:,.0f}/s"
        )
    finally:
        stop(bare)
        stop(daemon)


# --- SSE fan-out -----------------------------------------------------------------------------


def fan_out(subscribers: int, deltas: int, pace_ms: float, processes: int) -> None:
    items = [{"type": "text", "text": f"w{k:05d} ", "delayMs": pace_ms} for k in range(deltas)]
    env = bench_env({"responses": [items]})
    home = Path(env["PARLEY_HOME"])
    stamps = home / "stamps.json"
    env["PARLEY_BENCH_STAMPS"] = str(stamps)
    if "PARLEY_BENCH_PROFILE" in os.environ:  # see timed_serve.py
        env["PARLEY_BENCH_PROFILE"] = os.environ["PARLEY_BENCH_PROFILE"]
    process = spawn("daemon", env, home / "url", str(BENCH / "timed_serve.py"))
    url = wait_url(home / "url")
    host, port = url.removeprefix("http://").rsplit(":", 1)
    api = url + "/api/v1"
    session = get(api + "/sessions", {"cwd": str(home)})["metadata"]["session_id"]
    path = f"/api/v1/sessions/{session}/stream"
    readers = []
    for r in range(processes):
        count = subscribers // processes + (r < subscribers % processes)
        readers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(BENCH / "sse_readers.py"),
                    host,
                    port,
                    path,
                    str(count),
                    str(home / f"got-{r}.json"),
                ],
                stdout=subprocess.PIPE,
            )
        )
    for reader in readers:
        assert reader.stdout is not None
        assert reader.stdout.readline() == b"ready\n"
    peak = [0]
    sampling = threading.Event()

    def sample_rss() -> None:
        while not sampling.wait(0.05):
            status = Path(f"/proc/{process.pid}/status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
            peak[0] = max(peak[0], kb)

    sampler = threading.Thread(target=sample_rss)
    sampler.start()
    load = os.getloadavg()[0]
    began = time.monotonic()
    get(api + f"/sessions/{session}/execute", {"prompt": "go"})
    for reader in readers:
        reader.wait(300)
    took = time.monotonic() - began
    sampling.set()
    sampler.join()
    stop(process)
    yielded = json.loads(stamps.read_text())["stamps"]["go"]
    latencies = []
    complete = 0
    for r in range(processes):
        for got in json.loads((home / f"got-{r}.json").read_text()):
            seqs = [seq for seq, _ in got]
            if len(got) == deltas and seqs == sorted(seqs):
                complete += 1
            latencies += [(at - yielded[k]) * 1000 for k, (_, at) in enumerate(got)]
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99)]
    print(
        f"SSE: {subscribers} subscribers x {deltas} deltas (one per {pace_ms:g} ms) in {took:.1f} "
        f"s: {complete}/{subscribers} got every delta in order; delivery latency p50 {p50:.1f} "
        f"ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (targets p50 <= 5, p99 <= 50); "
        f"daemon peak RSS {peak[0] / 1024:.0f} MB (target <= 200); load average {load:.1f}"
    )
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    compile_sources()
    what = sys.argv[1] if len(sys.argv) > 1 else "startup"
    args = [float(a) for a in sys.argv[2:]]
    os.chdir(ROOT)
    if what == "startup":
        startup(int(args[0]) if args else 11)
    elif what == "requests":
        requests(int(args[0]) if args else 5)
    elif what == "sse":
        subscribers, deltas, pace, processes = (args + [1000, 1000, 10, 2][len(args) :])[:4]
        fan_out(int(subscribers), int(deltas), pace, int(processes))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
