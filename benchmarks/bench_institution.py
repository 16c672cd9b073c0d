"""Server time of the institution's console pages (issue 10) on a demo city of a given size.

    python benchmarks/bench_institution.py --instruments 100000 --runs 20

Builds (or reuses) the demo database, signs in as the demo institute's verifier (检定员) through /login and
times each page in-process (FastAPI's TestClient: routing, services, queries, templates; no network):
the sign-off queue, the due queue (first page), the certificates and standards lists, a verification's
detail, the new-verification form and its live evaluation. Prints p50/p99 per page. Report
``cat /proc/loadavg`` with the figures.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PASSWORD, add_db_arguments, open_or_build  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_db_arguments(parser, default_instruments=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app
    from jiliang.domain.access import SYSTEM
    from jiliang.services import measured_verifications as mv

    platform = open_or_build(args)
    done = next(v for v in mv.queue(platform, SYSTEM, ["approved"]) if v.document_no == "JD-DEMO-0001")
    with TestClient(create_app(platform)) as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"username": "institute", "password": PASSWORD, "csrf_token": token})
        page = client.get(f"/console/institution/verifications/new?instrument_id={done.instrument_id}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        form = {
            "csrf_token": token,
            "instrument_id": str(done.instrument_id),
            "scale_interval": "0.01",
            "p1_nominal": "15",
            "p1_unit": "kg",
            "p1_indications": "15.005",
            "p1_u": "0.002",
        }
        pages = {
            "sign-off queue": ("GET", "/console/institution"),
            "due queue": ("GET", "/console/institution/queue"),
            "certificates": ("GET", "/console/institution/certificates"),
            "standards": ("GET", "/console/institution/standards"),
            "verification detail": ("GET", f"/console/institution/verifications/{done.id}"),
            "new form": ("GET", f"/console/institution/verifications/new?instrument_id={done.instrument_id}"),
            "live evaluation": ("POST", "/console/institution/verifications/evaluate"),
            "check page /v/<number>": ("GET", "/v/JD-DEMO-0001"),
        }
        print(f"{'page':28} {'p50 ms':>8} {'p99 ms':>8}")
        for name, (method, url) in pages.items():
            times = []
            for _ in range(args.runs + 2):
                started = time.perf_counter()
                answer = (
                    client.post(url, data=form, headers={"X-CSRF-Token": token})
                    if method == "POST"
                    else client.get(url)
                )
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (url, answer.status_code)
            times = sorted(times[2:])  # the first two warm caches
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            print(f"{name:28} {statistics.median(times):8.1f} {p99:8.1f}")
    platform.close()


if __name__ == "__main__":
    main()
