"""Random-inspection plans (双随机、一公开): population, seed commitment, draw, inspectors, publication.

A plan moves draft → committed → drawn:
- **commit**: the population is computed from the registry (organisations of the plan's kinds in its
  region's subtree; with a catalogue item, only those owning an in-service instrument of that item), each
  with its stratum and risk weight, frozen in canonical JSON and hashed; the seed's SHA-256 commitment
  (``legal.sampling.commitment``) is published with that hash as a transparency-log leaf. The platform
  draws the seed itself, or a supervisor brings a commitment to a seed of their own (a public lottery
  number, say) and reveals it at the draw.
- **draw**: the seed is revealed and checked against the commitment (a changed seed is refused), the
  draw and the inspector assignment run once (``legal.sampling``), and the list with the seed is a second
  leaf. A drawn plan cannot be drawn again.
- **publish**: anyone reads the plan, the population, the seed and the list, and re-runs the draw
  (``rerun``, or offline ``jiliang market rerun`` over the published JSON).

Risk weight of an organisation = ``CreditPolicy.sampling_weight[grade]`` × (1 + its share of in-service
compulsory instruments overdue today), written with 6 decimals so that the published population is exact.
Remote-supervision warnings and confirmed complaints reach the weight through the credit grade.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.domain.instruments import InstrumentStatus, OrganisationKind, required_text
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.errors import Conflict, InvalidInput
from jiliang.legal import sampling
from jiliang.services import scope, transparency
from jiliang.services.common import not_found
from jiliang.services.market import credit, photos
from jiliang.services.market.common import now, require_region, require_supervisor, visible_organisation
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Instrument,
    MarketInspector,
    MarketInspectorRelation,
    MarketPlan,
    MarketResult,
    MarketTarget,
    Organisation,
    User,
)

STRATA_BY = ("none", "kind", "region", "kind_region")


# --- inspectors ----------------------------------------------------------------------------------------


def add_inspector(
    platform: Platform,
    principal: Principal,
    *,
    name: str,
    region_code: str,
    organisation_id: int | None = None,
    user_id: int | None = None,
) -> dict[str, Any]:
    require_supervisor(principal)
    validate_region_code(region_code, "region_code")
    require_region(principal, region_code, "区划 region", region_code)
    with platform.unit_of_work(principal) as s:
        if organisation_id is not None:
            visible_organisation(s, principal, organisation_id)
        if user_id is not None and s.get(User, user_id) is None:
            raise InvalidInput(f"用户 {user_id} 不存在 / user {user_id} not found", field="user_id")
        row = MarketInspector(
            name=required_text(name, "name", 100),
            region_code=region_code,
            organisation_id=organisation_id,
            user_id=user_id,
            active=True,
            created_at=now(platform),
        )
        s.add(row)
        s.flush()
        return inspector_dict(row)


def inspector_dict(row: MarketInspector) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "region_code": row.region_code,
        "organisation_id": row.organisation_id,
        "active": row.active,
    }


def list_inspectors(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    require_supervisor(principal)
    with platform.reading() as s:
        stmt = select(MarketInspector).order_by(MarketInspector.id)
        if principal.prefix:
            stmt = stmt.where(MarketInspector.region_code.like(principal.prefix + "%"))
        return [inspector_dict(r) for r in s.scalars(stmt)]


def _own_inspector(session: Session, principal: Principal, inspector_id: int) -> MarketInspector:
    """An inspector of the caller's jurisdiction; any other id is not found (never 'not yours')."""
    row = session.get(MarketInspector, inspector_id)
    if row is None or not principal.sees_region(row.region_code):
        raise not_found("检查人员 inspector", inspector_id)
    return row


def inspector_pool(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    """The pool as the console shows it: each inspector of the jurisdiction with their organisation's name,
    their declared relations (organisation, note, date) and their pending assignments."""
    require_supervisor(principal)
    with platform.reading() as s:
        stmt = select(MarketInspector).order_by(MarketInspector.name, MarketInspector.id)
        if principal.prefix:
            stmt = stmt.where(MarketInspector.region_code.like(principal.prefix + "%"))
        rows = list(s.scalars(stmt))
        ids = [r.id for r in rows]
        relations: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        org_ids = {r.organisation_id for r in rows if r.organisation_id is not None}
        rel_rows = (
            s.execute(
                select(MarketInspectorRelation)
                .where(MarketInspectorRelation.inspector_id.in_(ids))
                .order_by(MarketInspectorRelation.id)
            )
            .scalars()
            .all()
            if ids
            else []
        )
        org_ids.update(r.organisation_id for r in rel_rows)
        names = (
            dict(s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))).all())
            if org_ids
            else {}
        )
        for r in rel_rows:
            relations[r.inspector_id].append(
                {
                    "id": r.id,
                    "organisation_id": r.organisation_id,
                    "organisation_name": names.get(r.organisation_id, "—"),
                    "note": r.note,
                    "declared_on": r.declared_on,
                }
            )
        pending: dict[int, int] = {}
        if ids:
            for (team,) in s.execute(select(MarketTarget.inspector_ids).where(MarketTarget.status == "pending")):
                for i in team:
                    if int(i) in relations:
                        pending[int(i)] = pending.get(int(i), 0) + 1
        return [
            {
                **inspector_dict(r),
                "organisation_name": names.get(r.organisation_id) if r.organisation_id else None,
                "relations": relations[r.id],
                "pending": pending.get(r.id, 0),
            }
            for r in rows
        ]


def set_inspector_active(
    platform: Platform, principal: Principal, inspector_id: int, active: bool
) -> dict[str, Any]:
    """Take an inspector out of the pool (or back in): later draws skip an inactive inspector; the
    targets already assigned keep their team until reassigned by hand."""
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        row = _own_inspector(s, principal, inspector_id)
        row.active = bool(active)
        return inspector_dict(row)


def declare_relation(
    platform: Platform, principal: Principal, inspector_id: int, organisation_id: int, note: str = ""
) -> dict[str, Any]:
    """Record a declared relation (a conflict of interest) between an inspector and an organisation."""
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        _own_inspector(s, principal, inspector_id)
        visible_organisation(s, principal, organisation_id)
        exists = s.scalar(
            select(MarketInspectorRelation.id).where(
                MarketInspectorRelation.inspector_id == inspector_id,
                MarketInspectorRelation.organisation_id == organisation_id,
            )
        )
        if exists is not None:
            raise Conflict("该关系已申报 / this relation is already declared", field="organisation_id")
        row = MarketInspectorRelation(
            inspector_id=inspector_id,
            organisation_id=organisation_id,
            note=note[:300],
            declared_on=platform.local_today(),
        )
        s.add(row)
        s.flush()
        return {
            "id": row.id,
            "inspector_id": inspector_id,
            "organisation_id": organisation_id,
            "note": row.note,
        }


# --- plans ---------------------------------------------------------------------------------------------


def create_plan(platform: Platform, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """A draft plan: ``name``, ``region_code``, ``org_kinds`` (registry kinds), optional ``item_code``,
    ``ratio`` (0–1] or ``quotas`` per stratum, ``strata_by`` (none|kind|region|kind_region),
    ``team_size`` and ``lookback_days`` (recent pairings to avoid)."""
    require_supervisor(principal)
    region = validate_region_code(str(data.get("region_code", "")), "region_code")
    require_region(principal, region, "区划 region", region)
    kinds = data.get("org_kinds") or []
    if not isinstance(kinds, list) or not kinds:
        raise InvalidInput("须给出至少一种单位类型 / give at least one organisation kind", field="org_kinds")
    for k in kinds:
        try:
            OrganisationKind(k)
        except ValueError:
            raise InvalidInput(
                f"未知的单位类型 {k} / unknown organisation kind {k}", field="org_kinds"
            ) from None
    ratio = data.get("ratio")
    quotas = data.get("quotas")
    if (ratio is None) == (quotas is None):
        raise InvalidInput(
            "须给出抽查比例或各层数量之一 / give either a ratio or per-stratum quotas", field="ratio"
        )
    if ratio is not None and not (isinstance(ratio, int | float) and 0 < float(ratio) <= 1):
        raise InvalidInput(f"抽查比例须在 (0, 1] 内：{ratio} / the ratio must be in (0, 1]", field="ratio")
    if quotas is not None and (
        not isinstance(quotas, dict) or any(not isinstance(v, int) or v < 0 for v in quotas.values())
    ):
        raise InvalidInput("各层数量须为非负整数 / quotas must be non-negative integers", field="quotas")
    item_code = data.get("item_code") or None
    if item_code is not None and (not isinstance(item_code, str) or len(item_code) > 10):
        raise InvalidInput("目录项代码无效 / item_code is not a catalogue code", field="item_code")
    strata_by = data.get("strata_by", "kind")
    if strata_by not in STRATA_BY:
        raise InvalidInput(
            f"分层方式须为 {', '.join(STRATA_BY)} / strata_by must be one of {STRATA_BY}", field="strata_by"
        )
    team = int(data.get("team_size", 2))
    if not 1 <= team <= 10:
        raise InvalidInput("检查组人数须为 1–10 / team size must be 1..10", field="team_size")
    lookback = int(data.get("lookback_days", 365))
    if not 0 <= lookback <= 3650:
        raise InvalidInput("回避期须为 0–3650 天 / look-back must be 0..3650 days", field="lookback_days")
    with platform.unit_of_work(principal) as s:
        plan = MarketPlan(
            name=required_text(str(data.get("name", "")), "name", 200),
            region_code=region,
            org_kinds=sorted(set(kinds)),
            item_code=item_code,
            ratio=float(ratio) if ratio is not None else None,
            quotas=quotas,
            strata_by=strata_by,
            team_size=team,
            lookback_days=lookback,
            status="draft",
            created_by=principal.username,
            created_at=now(platform),
        )
        s.add(plan)
        s.flush()
        return plan_dict(plan)


def plan_dict(plan: MarketPlan, *, public: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": plan.id,
        "name": plan.name,
        "region_code": plan.region_code,
        "org_kinds": plan.org_kinds,
        "item_code": plan.item_code,
        "ratio": plan.ratio,
        "quotas": plan.quotas,
        "strata_by": plan.strata_by,
        "team_size": plan.team_size,
        "lookback_days": plan.lookback_days,
        "status": plan.status,
        "algorithm": sampling.ALGORITHM,
        "seed_commitment": plan.seed_commitment,
        "population_sha256": plan.population_sha256,
        "population_size": len(plan.population or []),
        "committed_at": plan.committed_at.isoformat() if plan.committed_at else None,
        "drawn_at": plan.drawn_at.isoformat() if plan.drawn_at else None,
        # The seed is shown only once the draw is made (its commitment is public before).
        "seed": plan.seed if plan.status == "drawn" else None,
    }
    if not public:
        out["created_by"] = plan.created_by
    return out


def _plan(session: Session, principal: Principal, plan_id: int, *, for_update: bool = False) -> MarketPlan:
    stmt = select(MarketPlan).where(MarketPlan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update()
    plan = session.scalars(stmt).first()
    if plan is None:
        raise not_found("抽查计划 plan", plan_id)
    require_region(principal, plan.region_code, "抽查计划 plan", plan_id)
    return plan


def get_plan(platform: Platform, principal: Principal, plan_id: int) -> dict[str, Any]:
    require_supervisor(principal)
    with platform.reading() as s:
        return plan_dict(_plan(s, principal, plan_id))


def list_plans(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    require_supervisor(principal)
    with platform.reading() as s:
        stmt = select(MarketPlan).order_by(MarketPlan.id.desc())
        if principal.prefix:
            stmt = stmt.where(MarketPlan.region_code.like(principal.prefix + "%"))
        return [plan_dict(p) for p in s.scalars(stmt)]


def _stratum(strata_by: str, org: Any) -> str:
    if strata_by == "kind":
        return str(org.kind)
    if strata_by == "region":
        return str(org.region_code)
    if strata_by == "kind_region":
        return f"{org.region_code}/{org.kind}"
    return ""


def build_population(session: Session, platform: Platform, plan: MarketPlan) -> list[list[Any]]:
    """``[[organisation_id, stratum, weight as a 6-decimal string], …]`` sorted by id (canonical)."""
    stmt = select(Organisation.id, Organisation.kind, Organisation.region_code).where(
        scope.within(Organisation.region_code, plan.region_code), Organisation.kind.in_(plan.org_kinds)
    )
    if plan.item_code:
        stmt = stmt.where(
            select(Instrument.id)
            .where(
                Instrument.owner_id == Organisation.id,
                Instrument.item_code == plan.item_code,
                Instrument.status == InstrumentStatus.IN_SERVICE.value,
            )
            .exists()
        )
    orgs = session.execute(stmt.order_by(Organisation.id)).all()
    if not orgs:
        raise InvalidInput(
            "按此计划的条件，名录中没有抽查对象 / no organisation in the registry matches this plan",
            field="org_kinds",
        )
    ids = [o.id for o in orgs]
    today = platform.local_today()
    grades = credit.grades_for(session, ids, today)
    overdue_share: dict[int, float] = {}
    in_service = and_(Instrument.status == InstrumentStatus.IN_SERVICE.value, Instrument.compulsory.is_(True))
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        rows = session.execute(
            select(
                Instrument.owner_id,
                func.count(),
                func.sum(case((Instrument.due_on < today, 1), else_=0)),
            )
            .where(Instrument.owner_id.in_(part), in_service)
            .group_by(Instrument.owner_id)
        ).all()
        for owner, total, overdue in rows:
            overdue_share[owner] = (overdue or 0) / total if total else 0.0
    population = []
    for o in orgs:
        base = credit.POLICY.sampling_weight[grades[o.id][1]]
        weight = base * (1.0 + overdue_share.get(o.id, 0.0))
        population.append([o.id, _stratum(plan.strata_by, o), f"{weight:.6f}"])
    return population


def canonical(population: list[list[Any]]) -> bytes:
    return json.dumps(population, ensure_ascii=False, separators=(",", ":")).encode()


def commit_seed(
    platform: Platform, principal: Principal, plan_id: int, *, commitment: str | None = None
) -> dict[str, Any]:
    """Freeze the population and publish the seed's commitment. Without ``commitment`` the platform draws
    the seed itself and keeps it until the draw; with one, the supervisor reveals their seed at the draw."""
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        plan = _plan(s, principal, plan_id, for_update=True)
        if plan.status != "draft":
            raise Conflict(
                f"计划 {plan_id} 已公布承诺值，种子不能更改 / plan {plan_id} already has a published commitment: the"
                " seed cannot change",
                field="seed",
            )
        if commitment is not None:
            if (
                not isinstance(commitment, str)
                or len(commitment) != 64
                or any(c not in "0123456789abcdef" for c in commitment.lower())
            ):
                raise InvalidInput(
                    "承诺值须为 64 位十六进制 SHA-256 / the commitment must be a hex SHA-256",
                    field="commitment",
                )
            plan.seed_commitment = commitment.lower()
            plan.seed = None
        else:
            seed = sampling.new_seed()
            plan.seed = seed
            plan.seed_commitment = sampling.commitment(seed)
        population = build_population(s, platform, plan)
        if plan.quotas:
            unknown = set(plan.quotas) - {str(p[1]) for p in population}
            if unknown:
                raise InvalidInput(
                    f"名录中没有这些分层：{sorted(unknown)} / no entity of the population is in strata {sorted(unknown)}",
                    field="quotas",
                )
        plan.population = population
        plan.population_sha256 = hashlib.sha256(canonical(population)).hexdigest()
        plan.committed_at = now(platform)
        plan.status = "committed"
        s.flush()
        transparency.enqueue(
            s,
            "market_seed_committed",
            {
                "plan_id": plan.id,
                "region_code": plan.region_code,
                "algorithm": sampling.ALGORITHM,
                "commitment": plan.seed_commitment,
                "population_sha256": plan.population_sha256,
                "population_size": len(population),
                "committed_at": plan.committed_at.isoformat(),
            },
        )
        return plan_dict(plan)


def _recent_pairs(session: Session, plan: MarketPlan, platform: Platform) -> set[tuple[int, int]]:
    since = platform.local_today() - timedelta(days=plan.lookback_days)
    pairs: set[tuple[int, int]] = set()
    for inspectors, org in session.execute(
        select(MarketResult.inspector_ids, MarketResult.organisation_id).where(
            MarketResult.inspected_on >= since
        )
    ):
        pairs.update((int(i), int(org)) for i in inspectors)
    for inspectors, org in session.execute(
        select(MarketTarget.inspector_ids, MarketTarget.organisation_id)
        .join(MarketPlan, MarketPlan.id == MarketTarget.plan_id)
        .where(
            MarketPlan.drawn_at >= now(platform) - timedelta(days=plan.lookback_days),
            MarketPlan.id != plan.id,
        )
    ):
        pairs.update((int(i), int(org)) for i in inspectors)
    return pairs


def draw_plan(
    platform: Platform, principal: Principal, plan_id: int, *, seed: str | None = None
) -> dict[str, Any]:
    """Reveal the seed, draw once, assign inspectors, log the list. Refuses a seed that is not the one
    committed to, and a second draw."""
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        plan = _plan(s, principal, plan_id, for_update=True)
        if plan.status == "drawn":
            raise Conflict(
                f"计划 {plan_id} 已抽取，不能重抽 / plan {plan_id} is drawn; it cannot be drawn again",
                field="status",
            )
        if plan.status != "committed" or plan.seed_commitment is None or plan.population is None:
            raise Conflict("须先公布种子承诺值 / publish the seed commitment first", field="status")
        if seed is not None:
            sampling.verify_commitment(seed, plan.seed_commitment)
            if plan.seed is not None and seed != plan.seed:
                raise Conflict(
                    "种子与公布的承诺值不符 / the seed does not match the published commitment", field="seed"
                )
            plan.seed = seed
        if plan.seed is None:
            raise InvalidInput(
                "须提供与承诺值对应的种子 / give the seed whose commitment was published", field="seed"
            )
        sampling.verify_commitment(plan.seed, plan.seed_commitment)
        result = _draw(plan.seed, plan)
        pool_rows = [
            r
            for r in s.scalars(select(MarketInspector).where(MarketInspector.active.is_(True)))
            if in_jurisdiction(plan.region_code, r.region_code)
            or in_jurisdiction(r.region_code, plan.region_code)
        ]
        pool = [
            sampling.Inspector(r.id, r.organisation_id, r.name) for r in sorted(pool_rows, key=lambda r: r.id)
        ]
        relations = {
            (a, b)
            for a, b in s.execute(
                select(MarketInspectorRelation.inspector_id, MarketInspectorRelation.organisation_id)
            )
        }
        targets = [sampling.Target(int(i), int(i)) for i in result.ids]
        assignments = sampling.assign_inspectors(
            plan.seed,
            targets,
            pool,
            team_size=plan.team_size,
            relations=relations,
            recent_pairs=_recent_pairs(s, plan, platform),
        )
        weights = {int(p[0]): float(p[2]) for p in plan.population}
        for rank, (a, code) in enumerate(zip(assignments, result.strata.tolist(), strict=True), start=1):
            s.add(
                MarketTarget(
                    plan_id=plan.id,
                    organisation_id=a.entity_id,
                    rank=rank,
                    stratum=result.stratum_names[code],
                    weight=weights[a.entity_id],
                    inspector_ids=list(a.inspector_ids),
                    status="pending",
                )
            )
        plan.status = "drawn"
        plan.drawn_at = now(platform)
        s.flush()
        transparency.enqueue(
            s,
            "market_draw_published",
            {
                "plan_id": plan.id,
                "algorithm": sampling.ALGORITHM,
                "seed": plan.seed,
                "commitment": plan.seed_commitment,
                "population_sha256": plan.population_sha256,
                "targets": [[a.entity_id, list(a.inspector_ids)] for a in assignments],
                "drawn_at": plan.drawn_at.isoformat(),
            },
        )
        return published_in(s, plan)


def _draw(seed: str, plan: MarketPlan) -> sampling.DrawResult:
    pop = plan.population or []
    return sampling.draw(
        seed,
        [int(p[0]) for p in pop],
        [str(p[1]) for p in pop],
        [float(p[2]) for p in pop],
        ratio=plan.ratio,
        quotas=plan.quotas,
    )


def published_in(session: Session, plan: MarketPlan) -> dict[str, Any]:
    targets = session.execute(
        select(MarketTarget, Organisation.name)
        .join(Organisation, Organisation.id == MarketTarget.organisation_id)
        .where(MarketTarget.plan_id == plan.id)
        .order_by(MarketTarget.rank)
    ).all()
    results = {
        r.target_id: r.conclusion
        for r in session.scalars(
            select(MarketResult)
            .where(MarketResult.target_id.in_([t.id for t, _ in targets]))
            .order_by(MarketResult.id)
        )
    }
    return {
        "plan": plan_dict(plan, public=True),
        "population": plan.population if plan.status == "drawn" else None,
        "targets": [
            {
                "rank": t.rank,
                "organisation_id": t.organisation_id,
                "organisation_name": name,
                "stratum": t.stratum,
                "inspector_ids": t.inspector_ids,
                "status": t.status,
                "conclusion": results.get(t.id),
            }
            for t, name in targets
        ],
    }


def published(platform: Platform, plan_id: int) -> dict[str, Any]:
    """The public view (一公开): a committed or drawn plan, its commitment, and once drawn its seed,
    population and list with each target's conclusion. Drafts are not public."""
    with platform.reading() as s:
        plan = s.get(MarketPlan, plan_id)
        if plan is None or plan.status == "draft":
            raise not_found("抽查计划 plan", plan_id)
        return published_in(s, plan)


def list_published(platform: Platform) -> list[dict[str, Any]]:
    with platform.reading() as s:
        rows = s.scalars(
            select(MarketPlan).where(MarketPlan.status != "draft").order_by(MarketPlan.id.desc())
        )
        return [plan_dict(p, public=True) for p in rows]


def rerun_published(data: dict[str, Any]) -> dict[str, Any]:
    """Re-run a published draw from its JSON (``published``'s shape) without the database: check the seed
    against the commitment and the population against its hash, draw, and compare with the list."""
    plan = data.get("plan") or {}
    seed = plan.get("seed")
    population = data.get("population")
    if not seed or population is None:
        raise InvalidInput(
            "计划尚未抽取，没有可复核的种子 / the plan is not drawn: no seed to re-run", field="seed"
        )
    sampling.verify_commitment(seed, str(plan.get("seed_commitment", "")))
    digest = hashlib.sha256(canonical(population)).hexdigest()
    if digest != plan.get("population_sha256"):
        raise Conflict(
            "名录与公布的哈希不符 / the population does not match its published hash", field="population"
        )
    result = sampling.draw(
        seed,
        [int(p[0]) for p in population],
        [str(p[1]) for p in population],
        [float(p[2]) for p in population],
        ratio=plan.get("ratio"),
        quotas=plan.get("quotas"),
    )
    listed = [int(t["organisation_id"]) for t in data.get("targets", [])]
    drawn = [int(i) for i in result.ids]
    return {"matches": drawn == listed, "drawn": drawn, "listed": listed, "population_sha256": digest}


def rerun(platform: Platform, plan_id: int) -> dict[str, Any]:
    return rerun_published(published(platform, plan_id))


def reassign_inspectors(
    platform: Platform, principal: Principal, target_id: int, inspector_ids: list[int], reason: str = ""
) -> dict[str, Any]:
    """Replace a target's team by hand (illness, say): each inspector must be an active inspector of the
    caller's jurisdiction and is checked for a conflict of interest (own organisation, declared relation,
    recent pairing), refused naming the inspector and the conflict. The change is audited (the target row)
    and, since the draw's leaf published the assignment, logged as the leaf ``market_inspectors_reassigned``
    with the team before and after, so a team cannot be changed quietly."""
    require_supervisor(principal)
    if not inspector_ids or len(set(inspector_ids)) != len(inspector_ids):
        raise InvalidInput("须给出不重复的检查人员 / give distinct inspectors", field="inspector_ids")
    with platform.unit_of_work(principal) as s:
        target = s.get(MarketTarget, target_id)
        if target is None:
            raise not_found("抽查对象 target", target_id)
        plan = _plan(s, principal, target.plan_id, for_update=True)
        relations = {
            (a, b)
            for a, b in s.execute(
                select(MarketInspectorRelation.inspector_id, MarketInspectorRelation.organisation_id).where(
                    MarketInspectorRelation.organisation_id == target.organisation_id
                )
            )
        }
        recent = _recent_pairs(s, plan, platform)
        before = [int(i) for i in target.inspector_ids]
        for iid in inspector_ids:
            row = _own_inspector(s, principal, iid)
            if not row.active:
                raise InvalidInput(
                    f"检查人员 {row.name} 已停用 / inspector {row.name} is not active", field="inspector_ids"
                )
            try:
                sampling.check_assignment(
                    sampling.Inspector(row.id, row.organisation_id, row.name),
                    sampling.Target(target.organisation_id, target.organisation_id),
                    relations,
                    # Keeping a member of the team is not a new pairing (their own result on this target
                    # would otherwise count as a recent one); a relation declared since still refuses.
                    () if iid in before else recent,
                )
            except InvalidInput as exc:
                raise InvalidInput(
                    f"{row.name}：{exc.message}", field="inspector_id", reason=exc.context.get("reason")
                ) from None
        after = sorted(inspector_ids)
        if after == sorted(before):
            raise InvalidInput("检查人员没有变化 / the team is unchanged", field="inspector_ids")
        target.inspector_ids = after
        at = now(platform)
        transparency.enqueue(
            s,
            "market_inspectors_reassigned",
            {
                "plan_id": plan.id,
                "rank": target.rank,
                "organisation_id": target.organisation_id,
                "before": sorted(before),
                "after": after,
                "reason": reason.strip()[:300],
                "at": at.isoformat(),
            },
        )
        return {"target_id": target.id, "inspector_ids": target.inspector_ids, "before": sorted(before)}


def _inspector_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {
        int(i): str(n)
        for i, n in session.execute(
            select(MarketInspector.id, MarketInspector.name).where(MarketInspector.id.in_(sorted(ids)))
        )
    }


def plan_targets(platform: Platform, principal: Principal, plan_id: int) -> list[dict[str, Any]]:
    """The drawn list as the console shows it: each target with its organisation's name, its inspectors'
    names and its latest result (a correction supersedes the earlier one)."""
    require_supervisor(principal)
    with platform.reading() as s:
        plan = _plan(s, principal, plan_id)
        rows = s.execute(
            select(MarketTarget, Organisation.name)
            .join(Organisation, Organisation.id == MarketTarget.organisation_id)
            .where(MarketTarget.plan_id == plan.id)
            .order_by(MarketTarget.rank)
        ).all()
        names = _inspector_names(s, {int(i) for t, _ in rows for i in t.inspector_ids})
        latest: dict[int, MarketResult] = {}
        for r in s.scalars(
            select(MarketResult)
            .where(MarketResult.target_id.in_([t.id for t, _ in rows]))
            .order_by(MarketResult.id)
        ):
            latest[r.target_id] = r
        return [
            {
                "id": t.id,
                "rank": t.rank,
                "organisation_id": t.organisation_id,
                "organisation_name": name,
                "stratum": t.stratum,
                "weight": t.weight,
                "inspectors": [names.get(int(i), "—") for i in t.inspector_ids],
                "status": t.status,
                "result_id": latest[t.id].id if t.id in latest else None,
                "conclusion": latest[t.id].conclusion if t.id in latest else None,
            }
            for t, name in rows
        ]


def target_view(platform: Platform, principal: Principal, target_id: int) -> dict[str, Any]:
    """One drawn target for the field page: its plan, organisation, inspectors, and its results (latest
    last). A target of a plan outside the caller's jurisdiction is not found."""
    require_supervisor(principal)
    with platform.reading() as s:
        target = s.get(MarketTarget, target_id)
        if target is None:
            raise not_found("抽查对象 target", target_id)
        plan = s.get(MarketPlan, target.plan_id)
        assert plan is not None
        require_region(principal, plan.region_code, "抽查对象 target", target_id)
        org = s.get(Organisation, target.organisation_id)
        assert org is not None
        names = _inspector_names(s, {int(i) for i in target.inspector_ids})
        results = s.scalars(
            select(MarketResult).where(MarketResult.target_id == target.id).order_by(MarketResult.id)
        ).all()
        instruments = s.execute(
            select(Instrument.id, Instrument.name, Instrument.serial_number)
            .where(Instrument.owner_id == org.id, Instrument.status == InstrumentStatus.IN_SERVICE.value)
            .order_by(Instrument.id)
            .limit(200)
        ).all()
        pictures = photos.listed(s, [r.id for r in results])
        return {
            "id": target.id,
            "rank": target.rank,
            "status": target.status,
            "plan_id": plan.id,
            "plan_name": plan.name,
            "drawn_at": plan.drawn_at,
            "organisation_id": org.id,
            "organisation_name": org.name,
            "organisation_kind": org.kind,
            "region_code": org.region_code,
            "inspectors": [names.get(int(i), "—") for i in target.inspector_ids],
            "inspector_ids": [int(i) for i in target.inspector_ids],
            "results": [
                {
                    "id": r.id,
                    "inspected_on": r.inspected_on,
                    "findings": r.findings,
                    "instruments": r.instruments,
                    "conclusion": r.conclusion,
                    "supersedes_id": r.supersedes_id,
                    "recorded_at": r.recorded_at,
                    "photos": pictures[r.id],
                }
                for r in results
            ],
            "instruments": [{"id": i, "name": n, "serial_number": sn} for i, n, sn in instruments],
        }
