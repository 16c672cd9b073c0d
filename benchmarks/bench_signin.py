"""Other users' lookups while 16 clients guess passwords (issue 16, "Sign-in").

    python benchmarks/bench_signin.py --instruments 20000 --seconds 10

Starts ``uvicorn`` on loopback over the demo database (built or reused) once per configuration and, for
``--seconds`` each, measures a signed-in supervisor's instrument lookups (``--lookup-clients`` clients, as
fast as they can) alone, then while ``--flood-clients`` clients send wrong passwords to the token
endpoint. Configurations, in the same run:

- ``before``: the code at ``--baseline-src`` (e.g. the main checkout before this change), where Argon2
  ran on the request threads; skipped when not given;
- ``unbounded``: this code with 16 Argon2 threads and no throttle, as if the pool were not bounded;
- ``pool``: this code with the default single Argon2 thread and no throttle (the pool alone);
- ``pool+throttle``: the defaults (the pool, and the flood locked out after 50 failures per address).

Argon2 runs at its production cost (64 MiB, three passes). Report ``cat /proc/loadavg`` with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PASSWORD, add_db_arguments, database_url, open_or_build  # noqa: E402

SERVER = """
import sys, uvicorn
from jiliang.api.app import create_app
from jiliang.services.platform import Platform
from jiliang.settings import Settings
platform = Platform.open(Settings(database_url=sys.argv[1]), migrate=False)
uvicorn.run(create_app(platform), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""
NO_THROTTLE = {
    "JILIANG_SIGNIN_LOCKOUT_FAILURES": "1000000000",
    "JILIANG_SIGNIN_ADDRESS_FAILURES": "1000000000",
    "JILIANG_SIGNIN_BACKOFF_AFTER": "1000000000",
}


@dataclass
class Phase:
    lookups: list[float] = field(default_factory=list)
    lookup_errors: int = 0
    logins: Counter[int] = field(default_factory=Counter)
    login_latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")

    def line(self, name: str) -> str:
        n = len(self.lookups)
        out = (
            f"  {name:<14} lookups {n / self.seconds:6.0f}/s  p50 {self.pct(self.lookups, 0.5):7.1f} ms  "
            f"p99 {self.pct(self.lookups, 0.99):7.1f} ms  errors {self.lookup_errors}"
        )
        if self.logins:
            statuses = ", ".join(f"{code}×{count}" for code, count in sorted(self.logins.items()))
            out += (
                f" | sign-in tries {sum(self.logins.values()) / self.seconds:5.1f}/s ({statuses}), "
                f"p50 {self.pct(self.login_latencies, 0.5):6.0f} ms"
            )
        return out


async def run_phase(
    base: str, token: str, ids: list[int], lookup_clients: int, flood_clients: int, seconds: float
) -> Phase:
    phase = Phase()
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=lookup_clients + flood_clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def lookup() -> None:
            headers = {"authorization": f"Bearer {token}"}
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    ok = (
                        await client.get(f"/api/v1/instruments/{rng.choice(ids)}", headers=headers)
                    ).status_code == 200
                except httpx.HTTPError:
                    ok = False
                phase.lookups.append(time.perf_counter() - started)
                phase.lookup_errors += not ok

        async def guess(n: int) -> None:
            i = 0
            while time.perf_counter() < deadline:
                i += 1
                started = time.perf_counter()
                try:
                    r = await client.post(
                        "/api/v1/auth/login", json={"username": "fuel-station", "password": f"guess-{n}-{i}"}
                    )
                    phase.logins[r.status_code] += 1
                except httpx.HTTPError:
                    phase.logins[0] += 1
                phase.login_latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(
            *(lookup() for _ in range(lookup_clients)), *(guess(n) for n in range(flood_clients))
        )
        phase.seconds = time.perf_counter() - started
    return phase


def serve(url: str, src: Path, extra_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(src), **extra_env}
    server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_db_arguments(parser, default_instruments=20_000)
    parser.add_argument("--seconds", type=float, default=10, help="time per phase")
    parser.add_argument("--lookup-clients", type=int, default=4)
    parser.add_argument("--flood-clients", type=int, default=16)
    parser.add_argument("--baseline-src", type=Path, help="the src/ directory of the code to compare against")
    args = parser.parse_args()

    platform = open_or_build(args)
    with platform.engine.connect() as conn:
        ids = list(
            conn.execute(
                text("SELECT id FROM instruments WHERE region_code LIKE '3399%' ORDER BY id LIMIT 2000")
            ).scalars()
        )
    platform.close()
    url = database_url(args)
    configs: list[tuple[str, Path, dict[str, str]]] = []
    if args.baseline_src:
        configs.append(("before", args.baseline_src, {}))
    configs += [
        ("unbounded", ROOT / "src", {"JILIANG_ARGON2_THREADS": "16", **NO_THROTTLE}),
        ("pool", ROOT / "src", {"JILIANG_ARGON2_THREADS": "1", **NO_THROTTLE}),
        ("pool+throttle", ROOT / "src", {}),
    ]
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}  ({os.cpu_count()} CPUs)")
    print(
        f"{args.lookup_clients} lookup clients; flood: {args.flood_clients} clients, wrong passwords; {args.seconds:.0f} s per phase"
    )
    from sqlalchemy import create_engine

    for name, src, env in configs:
        engine = create_engine(url)  # each configuration starts with no failures on record
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sign_in_throttles"))
        engine.dispose()
        server, base = serve(url, src, env)
        try:
            token = httpx.post(
                base + "/api/v1/auth/login", json={"username": "city", "password": PASSWORD}, timeout=60
            ).json()["access_token"]
            quiet = asyncio.run(run_phase(base, token, ids, args.lookup_clients, 0, args.seconds))
            flood = asyncio.run(
                run_phase(base, token, ids, args.lookup_clients, args.flood_clients, args.seconds)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        print(f"{name}:")
        print(quiet.line("quiet"))
        print(flood.line("under flood"))
        print(f"  load: {Path('/proc/loadavg').read_text().strip()}")


if __name__ == "__main__":
    main()
