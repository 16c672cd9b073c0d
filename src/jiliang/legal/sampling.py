"""Random inspections (双随机、一公开): a committed seed, a stratified weighted draw, inspector assignment.

The draw is meant to be re-run by anyone from what is published, so every step is written down here
precisely enough to re-implement in another language (docs/market.md repeats it with a test vector).

1. **Seed and commitment.** The seed is 32 random bytes written as 64 lowercase hex digits. Before the draw
   the plan publishes ``commitment = SHA-256(ASCII("jiliang-draw-v1:" + seed_hex))`` in hex; after the draw
   it publishes the seed, and anyone checks the hash.
2. **Key of the draw.** ``k = first 8 bytes, big-endian, of SHA-256(ASCII("jiliang-draw-v1/key:" + seed_hex))``
   as an unsigned 64-bit integer.
3. **One uniform number per entity.** For entity id ``i`` (a non-negative integer below 2⁶⁴):
   ``z = splitmix64(k XOR i)`` where splitmix64(x) is, in 64-bit unsigned arithmetic,
   ``x += 0x9E3779B97F4A7C15; x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9; x = (x ^ (x >> 27)) *
   0x94D049BB133111EB; x ^= x >> 31``; then ``u = ((z >> 11) + 0.5) / 2⁵³``, in (0, 1). It depends only on
   the seed and the id, not on the order in which the population is listed.
4. **Weighted sampling without replacement** (Efraimidis & Spirakis 2006, algorithm A-ES): each entity's
   key is ``ln(u) / w`` with its weight ``w > 0``; within each stratum the ``k_s`` entities with the
   largest keys are drawn, ties broken by the smaller id. ``k_s = ceil(ratio × N_s)`` for a stratum of
   ``N_s`` entities (at least 1, at most ``N_s``), unless the plan fixes ``k_s`` per stratum.
5. **Order of the list.** Strata in ascending order of their name (code points), and within a stratum by
   descending key: the published list is that order.

Inspector assignment is seeded from the same seed (``"jiliang-draw-v1/inspectors:"``), for each drawn
entity in list order: among inspectors without a conflict (same organisation as the entity, a declared
relation with it, or a pairing with it inside the look-back window), take the ``team_size`` with the
fewest assignments so far in this draw, ties broken by ``splitmix64(k_insp XOR (entity_id·2³² + inspector_id))``
ascending. An entity with too few eligible inspectors is refused by name, never silently under-staffed.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jiliang.errors import Conflict, InvalidInput

ALGORITHM = "jiliang-draw-v1"
_M64 = (1 << 64) - 1
_SEED_RE = re.compile(r"^[0-9a-f]{64}$")

U64Array = npt.NDArray[np.uint64]


def new_seed() -> str:
    return secrets.token_hex(32)


def _check_seed(seed: str) -> str:
    if not isinstance(seed, str) or not _SEED_RE.fullmatch(seed):
        raise InvalidInput(
            "种子须为 64 位小写十六进制 / the seed must be 64 lowercase hex digits", field="seed"
        )
    return seed


def commitment(seed: str) -> str:
    """The hash published before the draw: SHA-256 of ``"jiliang-draw-v1:" + seed`` in hex."""
    return hashlib.sha256(f"{ALGORITHM}:{_check_seed(seed)}".encode("ascii")).hexdigest()


def verify_commitment(seed: str, published: str) -> None:
    """Refuse a seed that is not the one committed to (a seed changed after publication)."""
    if not hmac.compare_digest(commitment(seed), published.lower()):
        raise Conflict(
            "种子与公布的承诺值不符（公布后被更改？）/ the seed does not match the published commitment "
            "(changed after publication?)",
            field="seed",
        )


def _key(seed: str, label: str) -> int:
    digest = hashlib.sha256(f"{ALGORITHM}/{label}:{_check_seed(seed)}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big")


def splitmix64(x: U64Array) -> U64Array:
    """SplitMix64's output function over an array (wrapping 64-bit arithmetic, as in C)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def splitmix64_int(x: int) -> int:
    """The same in plain Python integers: the reference a re-implementation can follow line by line."""
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def uniforms(seed: str, ids: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Step 3: one number in (0, 1) per entity id."""
    arr = np.asarray(ids)
    if arr.size and (arr.min() < 0):
        raise InvalidInput(
            "实体编号须为非负整数 / entity ids must be non-negative integers", field="population"
        )
    z = splitmix64(arr.astype(np.uint64) ^ np.uint64(_key(seed, "key")))
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)


@dataclass(frozen=True, slots=True)
class DrawResult:
    """The drawn entities in published order, with their stratum and key (ln u / w)."""

    ids: npt.NDArray[np.int64]
    strata: npt.NDArray[np.int64]  # index into ``stratum_names``
    keys: npt.NDArray[np.float64]
    stratum_names: tuple[str, ...]
    stratum_sizes: tuple[int, ...]
    stratum_drawn: tuple[int, ...]


def stratum_quota(size: int, ratio: float) -> int:
    if size == 0:
        return 0
    return min(size, max(1, math.ceil(round(ratio * size, 9))))


def draw(
    seed: str,
    ids: npt.ArrayLike,
    strata: Sequence[str] | npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    *,
    ratio: float | None = None,
    quotas: Mapping[str, int] | None = None,
    stratum_names: Sequence[str] | None = None,
) -> DrawResult:
    """Draw from a population of ``ids`` (unique non-negative integers) with optional strata and risk
    weights (> 0; default 1), by ``ratio`` of each stratum or fixed ``quotas`` per stratum (steps 3–5).

    ``strata`` are names, one per entity, or (fast path for millions) integer codes into
    ``stratum_names``, which must then be unique and sorted by code point so that codes order as names do."""
    id_arr = np.asarray(ids, dtype=np.int64)
    n = id_arr.size
    if n == 0:
        raise InvalidInput("抽查对象名录为空 / the population is empty", field="population")
    if (ratio is None) == (quotas is None):
        raise InvalidInput(
            "须给出抽查比例或各层数量之一 / give either a ratio or per-stratum quotas", field="ratio"
        )
    if ratio is not None and not (0 < ratio <= 1):
        raise InvalidInput(f"抽查比例须在 (0, 1] 内：{ratio} / the ratio must be in (0, 1]", field="ratio")
    sorted_ids = np.sort(id_arr)
    if n > 1 and bool(np.any(sorted_ids[1:] == sorted_ids[:-1])):
        raise InvalidInput("名录中有重复的实体 / the population lists an entity twice", field="population")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise InvalidInput(
            "权重须为正的有限数，每个实体一个 / weights must be positive, one per entity", field="weights"
        )
    names, codes = _strata_codes(strata, stratum_names, n)
    sizes = np.bincount(codes, minlength=len(names))
    if quotas is not None:
        unknown = set(quotas) - set(names)
        if unknown:
            raise InvalidInput(
                f"未知的分层：{sorted(unknown)} / unknown strata {sorted(unknown)}", field="quotas"
            )
        if any(int(v) < 0 for v in quotas.values()):
            raise InvalidInput("分层数量不能为负 / a quota cannot be negative", field="quotas")
        take = np.array([min(int(quotas.get(s, 0)), int(sizes[i])) for i, s in enumerate(names)])
    else:
        assert ratio is not None
        take = np.array([stratum_quota(int(sz), ratio) for sz in sizes])
    keys = np.log(uniforms(seed, id_arr)) / w
    # Group by stratum with one stable integer sort, then per stratum keep the take largest keys
    # (argpartition, linear) and sort only those by (key descending, id ascending).
    by_stratum = np.argsort(codes.astype(np.int32), kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    chosen_parts: list[npt.NDArray[np.intp]] = []
    for s in range(len(names)):
        members = by_stratum[starts[s] : starts[s + 1]]
        k = int(take[s])
        if k == 0:
            continue
        mk = keys[members]
        if k < members.size:
            threshold = np.partition(mk, members.size - k)[members.size - k]
            above = members[mk > threshold]
            tied = members[mk == threshold]
            tied = tied[np.argsort(id_arr[tied], kind="stable")][: k - above.size]
            members = np.concatenate((above, tied))
        members = members[np.lexsort((id_arr[members], -keys[members]))]
        chosen_parts.append(members)
    chosen = np.concatenate(chosen_parts) if chosen_parts else np.empty(0, dtype=np.intp)
    return DrawResult(
        ids=id_arr[chosen],
        strata=codes[chosen],
        keys=keys[chosen],
        stratum_names=names,
        stratum_sizes=tuple(int(x) for x in sizes),
        stratum_drawn=tuple(int(x) for x in take),
    )


def _strata_codes(
    strata: Sequence[str] | npt.ArrayLike | None, stratum_names: Sequence[str] | None, n: int
) -> tuple[tuple[str, ...], npt.NDArray[np.int64]]:
    if strata is None:
        return ("",), np.zeros(n, dtype=np.int64)
    arr = np.asarray(strata)
    if arr.shape != (n,):
        raise InvalidInput("每个实体须有一个分层 / one stratum per entity", field="strata")
    if stratum_names is not None:
        names = tuple(str(x) for x in stratum_names)
        if list(names) != sorted(set(names)) or not np.issubdtype(arr.dtype, np.integer):
            raise InvalidInput(
                "分层代码须对应唯一且排序的分层名 / stratum codes need unique, sorted names", field="strata"
            )
        if n and (arr.min() < 0 or arr.max() >= len(names)):
            raise InvalidInput("分层代码越界 / a stratum code is out of range", field="strata")
        return names, arr.astype(np.int64)
    uniq, codes = np.unique(arr.astype(str), return_inverse=True)  # sorted by code point
    return tuple(str(x) for x in uniq), codes.astype(np.int64)


# --- inspectors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inspector:
    id: int
    organisation_id: int | None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    entity_id: int
    organisation_id: int  # the inspected organisation (an entity is an organisation in the registry)


@dataclass(frozen=True, slots=True)
class Assignment:
    entity_id: int
    inspector_ids: tuple[int, ...]


def conflict_reason(
    inspector: Inspector,
    target: Target,
    relations: frozenset[tuple[int, int]],
    recent_pairs: frozenset[tuple[int, int]],
) -> str | None:
    """Why an inspector may not inspect a target, or None. ``relations``: declared (inspector id,
    organisation id); ``recent_pairs``: (inspector id, organisation id) inspected inside the look-back."""
    if inspector.organisation_id is not None and inspector.organisation_id == target.organisation_id:
        return "same_organisation"
    if (inspector.id, target.organisation_id) in relations:
        return "declared_relation"
    if (inspector.id, target.organisation_id) in recent_pairs:
        return "recent_pairing"
    return None


def assign_inspectors(
    seed: str,
    targets: Sequence[Target],
    pool: Sequence[Inspector],
    *,
    team_size: int = 2,
    relations: Iterable[tuple[int, int]] = (),
    recent_pairs: Iterable[tuple[int, int]] = (),
) -> list[Assignment]:
    """Random assignment avoiding conflicts of interest, balanced by load (see the module docstring)."""
    if team_size < 1:
        raise InvalidInput("检查组至少 1 人 / a team needs at least one inspector", field="team_size")
    if len({i.id for i in pool}) != len(pool):
        raise InvalidInput("检查人员名录有重复 / the inspector pool lists someone twice", field="pool")
    rel = frozenset(relations)
    recent = frozenset(recent_pairs)
    k = _key(seed, "inspectors")
    load = {i.id: 0 for i in pool}
    out: list[Assignment] = []
    for t in targets:
        eligible = [i for i in pool if conflict_reason(i, t, rel, recent) is None]
        if len(eligible) < team_size:
            raise InvalidInput(
                f"对象 {t.entity_id} 只有 {len(eligible)} 名无利益冲突的检查人员，需要 {team_size} 名 / target "
                f"{t.entity_id} has {len(eligible)} inspectors without a conflict of interest, {team_size} needed",
                field="pool",
                entity_id=t.entity_id,
            )
        eligible.sort(key=lambda i: (load[i.id], splitmix64_int(k ^ (((t.entity_id << 32) + i.id) & _M64))))
        team = tuple(sorted(i.id for i in eligible[:team_size]))
        for iid in team:
            load[iid] += 1
        out.append(Assignment(t.entity_id, team))
    return out


def check_assignment(
    inspector: Inspector,
    target: Target,
    relations: Iterable[tuple[int, int]] = (),
    recent_pairs: Iterable[tuple[int, int]] = (),
) -> None:
    """Refuse a manual assignment that has a conflict of interest, naming it."""
    reason = conflict_reason(inspector, target, frozenset(relations), frozenset(recent_pairs))
    messages = {
        "same_organisation": "检查人员不得检查本单位 / an inspector may not inspect their own organisation",
        "declared_relation": "检查人员已申报与该单位有利害关系 / the inspector declared a relation with this organisation",
        "recent_pairing": "检查人员近期已检查过该单位 / the inspector inspected this organisation recently",
    }
    if reason is not None:
        raise InvalidInput(messages[reason], field="inspector_id", reason=reason)
