"""Concurrent writers on the embedded database (issue 16): filings, verifications and sign-ins at once.

    python benchmarks/bench_concurrency.py --clients 20 --seconds 60          # SQLite file (the default)
    python benchmarks/bench_concurrency.py --db postgresql://postgres@127.0.0.1/bench

Builds a small world in a fresh database (a province, a city, an enterprise, an institution authorised for
fuel dispensers, accounts), starts ``uvicorn`` on loopback over it, and has ``--clients`` concurrent clients
for ``--seconds`` each loop: file an instrument, record its verification, sign in. Every answer that is not
2xx counts as an error (before issue 16, 2,256 of 6,070 writes answered 500 'database is locked'); the
target is zero errors. Prints the writes per second and the machine's load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jiliang.domain.access import SYSTEM  # noqa: E402
from jiliang.domain.credit_code import make_credit_code  # noqa: E402
from jiliang.services import catalogue, organisations, standards, users  # noqa: E402
from jiliang.services.platform import Platform  # noqa: E402
from jiliang.settings import Settings  # noqa: E402

PASSWORD = "bench-password-123"
SERVER = """
import sys, uvicorn
from jiliang.api.app import create_app
from jiliang.services.platform import Platform
from jiliang.settings import Settings
platform = Platform.open(Settings(database_url=sys.argv[1], argon2_memory_kib=8192, argon2_time_cost=1),
                         migrate=False)
uvicorn.run(create_app(platform), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


def build(url: str) -> tuple[int, int]:
    platform = Platform.open(Settings(database_url=url, argon2_memory_kib=8192, argon2_time_cost=1))
    organisations.ensure_national(platform)
    catalogue.ensure_shipped(platform)
    for code, name in (("330000", "浙江省"), ("339900", "演示市"), ("339901", "东城区")):
        organisations.add_region(platform, SYSTEM, code, name)
    ent = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=make_credit_code("91339901000000001"),
        name="东城加油站",
        kind="fuel_station",
        region_code="339901",
    )
    inst = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=make_credit_code("91339900000000002"),
        name="演示市计量院",
        kind="legal_verification_institution",
        region_code="339900",
    )
    standards.authorise(
        platform,
        SYSTEM,
        {
            "institution_id": inst.id,
            "item_code": "09.01",
            "region_code": "339900",
            "valid_from": "2020-01-01",
            "valid_until": "2030-12-31",
        },
    )
    users.create_user(
        platform,
        SYSTEM,
        username="enterprise",
        password=PASSWORD,
        role="enterprise",
        jurisdiction="339901",
        organisation_id=ent.id,
    )
    users.create_user(
        platform,
        SYSTEM,
        username="institution",
        password=PASSWORD,
        role="institution",
        jurisdiction="339900",
        organisation_id=inst.id,
    )
    platform.close()
    return ent.id, inst.id


async def client(base: str, n: int, until: float, counts: Counter[str], codes: Counter[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        tokens = {}
        for who in ("enterprise", "institution"):
            r = await http.post("/api/v1/auth/login", json={"username": who, "password": PASSWORD})
            r.raise_for_status()
            tokens[who] = {"authorization": f"Bearer {r.json()['access_token']}"}
        i = 0
        while time.monotonic() < until:
            i += 1
            serial = f"B-{n}-{i}"
            r = await http.post(
                "/api/v1/instruments",
                headers=tokens["enterprise"],
                json={
                    "name": "加油机",
                    "item_code": "09.01",
                    "model": "M",
                    "serial_number": serial,
                    "manufacturer": "示例",
                    "region_code": "339901",
                    "use": "trade_settlement",
                    "filed_on": "2025-01-10",
                },
            )
            codes[r.status_code] += 1
            counts["filing"] += 1
            if r.status_code != 201:
                continue
            r = await http.post(
                "/api/v1/verifications",
                headers=tokens["institution"],
                json={
                    "instrument_id": r.json()["id"],
                    "verified_on": "2026-01-05",
                    "conclusion": "pass",
                    "document_no": f"JD-{serial}",
                },
            )
            codes[r.status_code] += 1
            counts["verification"] += 1
            r = await http.post("/api/v1/auth/login", json={"username": "enterprise", "password": PASSWORD})
            codes[r.status_code] += 1
            counts["sign-in"] += 1


async def run(base: str, clients: int, seconds: float) -> tuple[Counter[str], Counter[int], float]:
    counts: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    start = time.monotonic()
    await asyncio.gather(*(client(base, n, start + seconds, counts, codes) for n in range(clients)))
    return counts, codes, time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="jiliang-bench-concurrency-")
    url = args.db or f"sqlite:///{tmp}/bench.db"
    build(url)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        counts, codes, took = asyncio.run(run(base, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait()
    writes = sum(counts.values())
    errors = sum(n for code, n in codes.items() if not 200 <= code < 300)
    print(f"database: {url.split('://')[0]}; {args.clients} clients for {took:.1f} s")
    print(
        f"writes: {writes:,} ({writes / took:,.0f}/s): " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    print(f"answers: {dict(sorted(codes.items()))}; errors: {errors}")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
