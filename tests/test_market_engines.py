"""Random draws (双随机) and credit grades: the published algorithm re-implemented independently, and the
scalar and vectorised credit paths held to the same answers."""

from __future__ import annotations

import hashlib
import math
from datetime import date, timedelta

import numpy as np
import pytest

from jiliang.errors import Conflict, InvalidInput
from jiliang.legal import credit, sampling

SEED = "00" * 31 + "2a"


def test_splitmix64_reference_vector() -> None:
    # Vigna's SplitMix64 seeded with 0 first returns 0xE220A8397B1DCDAF (the reference C code's output).
    assert sampling.splitmix64_int(0) == 0xE220A8397B1DCDAF
    arr = sampling.splitmix64(np.array([0, 1, 2**63], dtype=np.uint64))
    assert [int(x) for x in arr] == [sampling.splitmix64_int(x) for x in (0, 1, 2**63)]


def test_commitment_is_sha256_of_the_prefixed_seed_and_a_changed_seed_is_refused() -> None:
    assert sampling.commitment(SEED) == hashlib.sha256(("jiliang-draw-v1:" + SEED).encode()).hexdigest()
    sampling.verify_commitment(SEED, sampling.commitment(SEED).upper())
    with pytest.raises(Conflict) as err:
        sampling.verify_commitment("00" * 31 + "2b", sampling.commitment(SEED))
    assert err.value.field == "seed"
    with pytest.raises(InvalidInput):
        sampling.commitment("not-hex")


def _reference_draw(
    seed: str, ids: list[int], strata: list[str], weights: list[float], ratio: float
) -> list[int]:
    """The docstring's algorithm in plain Python integers, as a third party would write it."""
    k = int.from_bytes(hashlib.sha256(("jiliang-draw-v1/key:" + seed).encode()).digest()[:8], "big")
    by_stratum: dict[str, list[tuple[float, int]]] = {}
    for i, s, w in zip(ids, strata, weights, strict=True):
        z = sampling.splitmix64_int(k ^ i)
        u = ((z >> 11) + 0.5) / 2**53
        by_stratum.setdefault(s, []).append((math.log(u) / w, i))
    out: list[int] = []
    for s in sorted(by_stratum):
        members = sorted(by_stratum[s], key=lambda p: (-p[0], p[1]))
        take = min(len(members), max(1, math.ceil(round(ratio * len(members), 9))))
        out.extend(i for _, i in members[:take])
    return out


def test_draw_matches_an_independent_reimplementation_and_ignores_listing_order() -> None:
    rng = np.random.default_rng(1)
    ids = rng.choice(10**9, size=3000, replace=False).tolist()
    strata = [("市场", "加油站", "眼镜店")[i % 3] for i in range(3000)]
    weights = [(0.5, 1.0, 2.0, 4.0)[i % 4] for i in range(3000)]
    got = sampling.draw(SEED, ids, strata, weights, ratio=0.05)
    assert got.ids.tolist() == _reference_draw(SEED, ids, strata, weights, 0.05)
    perm = rng.permutation(3000)
    again = sampling.draw(
        SEED, [ids[p] for p in perm], [strata[p] for p in perm], [weights[p] for p in perm], ratio=0.05
    )
    assert again.ids.tolist() == got.ids.tolist()
    assert got.stratum_drawn == (50, 50, 50)
    other = sampling.draw("11" * 32, ids, strata, weights, ratio=0.05)
    assert other.ids.tolist() != got.ids.tolist()


def test_risk_weights_raise_the_chance_of_being_drawn() -> None:
    ids = np.arange(20000)
    w = np.where(ids % 2 == 0, 4.0, 1.0)
    got = sampling.draw(SEED, ids, None, w, ratio=0.1)
    heavy = np.count_nonzero(got.ids % 2 == 0)
    assert heavy > 0.65 * got.ids.size  # four times the weight: most of the draw


def test_bad_populations_are_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        sampling.draw(SEED, [1, 1], ratio=0.5)
    with pytest.raises(InvalidInput) as err:
        sampling.draw(SEED, [1, 2], weights=[1, 0], ratio=0.5)
    assert err.value.field == "weights"
    with pytest.raises(InvalidInput):
        sampling.draw(SEED, [1, 2], ratio=1.5)
    quota = sampling.draw(SEED, [1, 2, 3], ["a", "a", "b"], quotas={"a": 1})
    assert quota.stratum_drawn == (1, 0)


def test_inspectors_avoid_conflicts_and_spread_the_load() -> None:
    pool = [sampling.Inspector(i, org) for i, org in [(1, 100), (2, 100), (3, 200), (4, 300), (5, 400)]]
    targets = [sampling.Target(10 + k, org) for k, org in enumerate([100, 200, 500, 600, 700, 800])]
    out = sampling.assign_inspectors(
        SEED, targets, pool, team_size=2, relations=[(5, 500)], recent_pairs=[(4, 600)]
    )
    teams = {a.entity_id: set(a.inspector_ids) for a in out}
    assert not teams[10] & {1, 2}  # organisation 100's own inspectors
    assert 3 not in teams[11]
    assert 5 not in teams[12] and 4 not in teams[13]
    loads = [sum(i in t for t in teams.values()) for i in range(1, 6)]
    assert max(loads) - min(loads) <= 1
    assert out == sampling.assign_inspectors(
        SEED, targets, pool, team_size=2, relations=[(5, 500)], recent_pairs=[(4, 600)]
    )
    with pytest.raises(InvalidInput, match="own organisation"):
        sampling.check_assignment(pool[0], targets[0])
    with pytest.raises(InvalidInput) as err:
        sampling.assign_inspectors(SEED, [sampling.Target(1, 100)], pool[:3], team_size=2)
    assert err.value.field == "pool"


AS_OF = date(2026, 6, 15)


def test_credit_grade_explains_every_point() -> None:
    events = [
        credit.CreditEvent(credit.EventKind.INSPECTION_FAILED, AS_OF - timedelta(days=30), "plan 1"),
        credit.CreditEvent(credit.EventKind.COMPLAINT_CONFIRMED, AS_OF - timedelta(days=100), "complaint 7"),
        credit.CreditEvent(credit.EventKind.SELF_COMMITMENT, AS_OF - timedelta(days=10)),
        credit.CreditEvent(credit.EventKind.EXEMPLARY_UNIT, AS_OF - timedelta(days=10)),
        credit.CreditEvent(credit.EventKind.PENALTY, AS_OF - timedelta(days=4 * 365)),
    ]
    g = credit.grade(events, AS_OF)
    # 100 − 10 − 8 + min(5 + 10, 10) = 92 → A; the 4-year-old penalty is past its 3-year validity.
    assert g.score == 92 and g.grade == "A"
    assert sum(line.counted for line in g.lines) == pytest.approx(-8)
    old = next(line for line in g.lines if line.kind is credit.EventKind.PENALTY)
    assert old.counted == 0 and "validity" in old.reason_en


def test_credit_repair_after_a_year_without_negative_events() -> None:
    events = [
        credit.CreditEvent(credit.EventKind.CASE_VIOLATION, AS_OF - timedelta(days=400)),
        credit.CreditEvent(credit.EventKind.PENALTY, AS_OF - timedelta(days=380)),
    ]
    repaired = credit.grade(events, AS_OF)
    assert repaired.repaired and repaired.score == 100 and repaired.grade == "A"
    fresh = credit.grade([*events, credit.CreditEvent(credit.EventKind.OVERDUE_INSTRUMENT, AS_OF)], AS_OF)
    assert not fresh.repaired and fresh.score == 100 - 15 - 20 - 2 and fresh.grade == "C"


def test_policy_is_configurable_and_checked() -> None:
    pol = credit.CreditPolicy.from_mapping(
        {"points": {"penalty": -50}, "thresholds": {"A": 95, "B": 80, "C": 50}}
    )
    g = credit.grade([credit.CreditEvent(credit.EventKind.PENALTY, AS_OF)], AS_OF, pol)
    assert g.score == 50 and g.grade == "C"
    with pytest.raises(InvalidInput):
        credit.CreditPolicy.from_mapping({"thresholds": {"A": 50, "B": 80, "C": 10}})
    with pytest.raises(InvalidInput):
        credit.CreditPolicy.from_mapping({"bogus": 1})


def test_vectorised_grades_agree_with_the_explained_ones() -> None:
    rng = np.random.default_rng(3)
    n_ent, n_ev = 300, 3000
    ent = rng.integers(0, n_ent, n_ev)
    kind = rng.integers(0, len(credit.KINDS), n_ev).astype(np.int8)
    day = (AS_OF.toordinal() - rng.integers(-30, 5 * 365, n_ev)).astype(np.int32)
    fast = credit.grade_many(ent, kind, day, n_ent, AS_OF.toordinal())
    for e in range(n_ent):
        sel = np.flatnonzero(ent == e)
        evs = [credit.CreditEvent(credit.KINDS[kind[i]], date.fromordinal(int(day[i]))) for i in sel]
        g = credit.grade(evs, AS_OF)
        assert fast.score[e] == pytest.approx(g.score), e
        assert credit.GRADES[fast.grade[e]] == g.grade
        assert bool(fast.repaired[e]) == g.repaired
    assert len(set(fast.grade.tolist())) >= 3


def test_stratum_codes_fast_path_equals_names() -> None:
    rng = np.random.default_rng(5)
    ids = rng.choice(10**6, size=5000, replace=False)
    names = sorted(["加油站", "市场", "眼镜店", "超市"])
    codes = rng.integers(0, 4, 5000)
    by_name = sampling.draw(SEED, ids, [names[c] for c in codes], ratio=0.03)
    by_code = sampling.draw(SEED, ids, codes, ratio=0.03, stratum_names=names)
    assert by_name.ids.tolist() == by_code.ids.tolist()
    with pytest.raises(InvalidInput):
        sampling.draw(SEED, ids, codes, ratio=0.03, stratum_names=list(reversed(names)))


def test_docs_market_md_test_vector() -> None:
    # The vector printed in docs/market.md for re-implementers.
    assert sampling.commitment(SEED) == "bd7e05df36816682ff721f8d6bfd3ab2e59f8d9a1249b15a20c7c9e317251e43"
    u = sampling.uniforms(SEED, [1, 2, 3])
    assert u.tolist() == pytest.approx([0.039320921577, 0.066348776309, 0.890843023740], abs=1e-12)
    got = sampling.draw(SEED, range(1, 11), ["a"] * 5 + ["b"] * 5, [1, 1, 1, 1, 4, 1, 1, 1, 1, 1], ratio=0.4)
    assert got.ids.tolist() == [4, 5, 6, 7]
