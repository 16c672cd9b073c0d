"""API latency under 100 concurrent clients: instrument lookup and due list, against /healthz.

    python benchmarks/bench_api.py --instruments 1000000

Starts ``uvicorn`` on loopback over the demo database (built or reused), logs in as the city supervisor,
and sends each scenario a bounded number of requests (``--requests``) within a bounded time
(``--seconds``) from ``--clients`` concurrent clients; then stops the server. The baseline is the same
load against ``/healthz`` (no database, no authentication) in the same run, so the ratio says what the
registry adds over the bare framework on this machine. Targets: p99 ≤ 50 ms, server RSS ≤ 500 MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PASSWORD, add_db_arguments, database_url, open_or_build  # noqa: E402

from jiliang.services import users  # noqa: E402

SERVER = """
import sys, uvicorn
from jiliang.api.app import create_app
from jiliang.services.platform import Platform
from jiliang.settings import Settings
platform = Platform.open(Settings(database_url=sys.argv[1]), migrate=False)
uvicorn.run(create_app(platform), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False, timeout_keep_alive=30)
"""


@dataclass
class Result:
    name: str
    latencies: list[float]
    errors: int
    seconds: float

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        n = len(self.latencies)
        return (
            f"{self.name:<18} n={n:>6,}  errors={self.errors:<4} {n / self.seconds:>7,.0f} req/s  "
            f"p50 {self.p(0.50):6.1f} ms  p95 {self.p(0.95):6.1f} ms  p99 {self.p(0.99):6.1f} ms  "
            f"max {max(self.latencies) * 1000:6.1f} ms  mean {statistics.mean(self.latencies) * 1000:5.1f} ms"
        )


async def load(
    base: str,
    name: str,
    paths: list[str],
    token: str | None,
    clients: int,
    requests: int,
    seconds: float,
    rate: float = 0.0,
) -> Result:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as client:

        async def worker(offset: float) -> None:
            nonlocal issued, errors
            interval = clients / rate if rate else 0.0  # open loop: each client paces itself
            due = time.perf_counter() + offset * interval
            while issued < requests and time.perf_counter() < deadline:
                if interval:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += interval
                if issued >= requests:
                    break
                issued += 1
                path = rng.choice(paths)
                started = time.perf_counter()
                try:
                    response = await client.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker(i / clients) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return Result(name, latencies, errors, elapsed)


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of the server process, from /proc (Linux)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


WRK_SCRIPT = """
local paths = {%(paths)s}
local i = 0
local think = %(think)f
%(auth)s
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
if think > 0 then
  -- exponential think time: each connection is a client with Poisson arrivals (open loop)
  delay = function() return math.floor(-math.log(1 - math.random()) * think) end
end
"""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


@dataclass
class WrkResult:
    name: str
    requests: int
    errors: int
    rps: float
    percentiles: dict[str, float]

    def p(self, q: float) -> float:
        return self.percentiles[f"{int(q * 100)}%"]

    def line(self) -> str:
        pct = "  ".join(f"p{k[:-1]} {v:7.1f} ms" for k, v in self.percentiles.items())
        return (
            f"{self.name:<18} n={self.requests:>7,}  errors={self.errors:<5} {self.rps:>7,.0f} req/s  {pct}"
        )


def wrk_load(
    base: str, name: str, paths: list[str], token: str | None, clients: int, seconds: float, rate: float
) -> WrkResult:
    """Drive the server with wrk (C, so the load generator does not starve the server of CPU)."""
    import tempfile

    think = clients / rate * 1000 if rate else 0.0
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    script = WRK_SCRIPT % {"paths": ", ".join(f'"{p}"' for p in paths), "think": think, "auth": auth}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{max(1, int(seconds))}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            f.name,
            base,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    os.unlink(f.name)
    percentiles = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(\d+%)\s+([\d.]+\w+)", out, re.M)}
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(map(int, socket_errors.groups())) if socket_errors else 0
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return WrkResult(name, total, errors, rps, percentiles)


def _shape(path: str) -> str:
    """A route with its parameters blanked, so /a/{id} matches /a/{instrument_id}."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_db_arguments(parser)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=5000, help="requests per scenario (upper bound)")
    parser.add_argument("--seconds", type=float, default=60, help="time per scenario (upper bound)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="total requests/s spread over the clients (open loop); 0: each client sends as fast as it can",
    )
    parser.add_argument(
        "--python-client", action="store_true", help="use the httpx load generator even if wrk is there"
    )
    parser.add_argument("--user", default="city", help="demo account to log in as")
    parser.add_argument("--lookup-path", default="/api/v1/instruments/{id}")
    parser.add_argument("--due-path", default="/api/v1/due?within_days=30&owner_id={owner}&limit=50")
    args = parser.parse_args()

    platform = open_or_build(args)
    token, principal = users.login(platform, args.user, PASSWORD)
    prefix = principal.prefix
    with platform.engine.connect() as conn:
        ids = list(
            conn.execute(
                text("SELECT id FROM instruments WHERE region_code LIKE :p ORDER BY random() LIMIT 5000"),
                {"p": prefix + "%"},
            ).scalars()
        )
        owners = list(
            conn.execute(
                text(
                    "SELECT DISTINCT owner_id FROM instruments WHERE region_code LIKE :p "
                    "AND due_on IS NOT NULL ORDER BY owner_id LIMIT 2000"
                ),
                {"p": prefix + "%"},
            ).scalars()
        )
    platform.close()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    server = subprocess.Popen([sys.executable, "-c", SERVER, database_url(args), str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        routes = {_shape(p) for p in httpx.get(base + "/openapi.json", timeout=10).json()["paths"]}
        mode = (
            f"open loop at {args.rate:.0f} req/s"
            if args.rate
            else "closed loop (each client as fast as it can)"
        )
        print(
            f"server pid {server.pid}, RSS at start {rss_mib(server.pid)[0]:.0f} MiB; {args.clients} clients, {mode}"
        )
        scenarios: list[tuple[str, list[str], str | None]] = [("healthz (baseline)", ["/healthz"], None)]
        if _shape(args.lookup_path) in routes:
            scenarios.append(("instrument lookup", [args.lookup_path.format(id=i) for i in ids], token))
        else:
            print(f"no route {args.lookup_path} in this build: lookup skipped")
        if _shape(args.due_path) in routes:
            scenarios.append(("due list by owner", [args.due_path.format(owner=o) for o in owners], token))
        else:
            print(f"no route {args.due_path} in this build: due list skipped")
        results: list[Result | WrkResult] = []
        use_wrk = shutil.which("wrk") is not None and not args.python_client
        print("load generator:", "wrk" if use_wrk else "httpx (install Debian's wrk for a lighter one)")
        for name, paths, auth in scenarios:
            result: Result | WrkResult
            if use_wrk:
                wrk_load(base, name, paths, auth, args.clients, 3, 0)  # warm-up
                result = wrk_load(base, name, paths, auth, args.clients, args.seconds, args.rate)
            else:
                asyncio.run(load(base, name + " warm-up", paths, auth, args.clients, 300, 30))
                result = asyncio.run(
                    load(base, name, paths, auth, args.clients, args.requests, args.seconds, args.rate)
                )
            results.append(result)
            now, peak = rss_mib(server.pid)
            print(result.line(), f" server RSS {now:.0f} MiB (peak {peak:.0f})", flush=True)
        base_p99 = results[0].p(0.99)
        for r in results[1:]:
            print(
                f"{r.name}: p99 {r.p(0.99):.1f} ms = {r.p(0.99) / base_p99:.1f}× the /healthz p99  (target ≤ 50 ms)"
            )
        print(f"server peak RSS {rss_mib(server.pid)[1]:.0f} MiB  (target ≤ 500 MiB)")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
