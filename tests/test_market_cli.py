"""``jiliang market``: the offline net-content check, the commitment, and re-running a published draw."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.legal import sampling
from jiliang.services.market.plans import canonical

runner = CliRunner()
SEED = "5a" * 32


def test_check_prints_each_criterion_and_exits_1_on_failure(tmp_path: Path) -> None:
    values = tmp_path / "v.txt"
    values.write_text("\n".join(["505"] * 9 + ["484.9"]), encoding="utf-8")
    r = runner.invoke(app, ["market", "check", "500 g", "--lot", "20", "--values", str(values)])
    assert r.exit_code == 1, r.output
    assert "不合格 / fail" in r.output
    r = runner.invoke(app, ["market", "check", "500 g", "--lot", "200", "--values", str(values)])
    assert r.exit_code == 2 and "measurements" in r.output


def test_commitment_and_offline_rerun(tmp_path: Path) -> None:
    r = runner.invoke(app, ["market", "commitment", SEED])
    assert r.exit_code == 0 and r.output.strip() == sampling.commitment(SEED)
    population = [[i, "fuel_station" if i % 2 else "market_operator", "1.000000"] for i in range(1, 41)]
    drawn = sampling.draw(SEED, [p[0] for p in population], [p[1] for p in population], ratio=0.25)
    published = {
        "plan": {
            "seed": SEED,
            "seed_commitment": sampling.commitment(SEED),
            "ratio": 0.25,
            "quotas": None,
            "population_sha256": hashlib.sha256(canonical(population)).hexdigest(),
        },
        "population": population,
        "targets": [{"organisation_id": int(i)} for i in drawn.ids],
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(published), encoding="utf-8")
    r = runner.invoke(app, ["market", "rerun", str(path)])
    assert r.exit_code == 0, r.output
    published["targets"] = list(reversed(published["targets"]))  # a list that was quietly reordered
    path.write_text(json.dumps(published), encoding="utf-8")
    assert runner.invoke(app, ["market", "rerun", str(path)]).exit_code == 3
    published["plan"]["seed"] = "6b" * 32  # a seed changed after publication
    path.write_text(json.dumps(published), encoding="utf-8")
    r = runner.invoke(app, ["market", "rerun", str(path)])
    assert r.exit_code == 2 and "commitment" in r.output
