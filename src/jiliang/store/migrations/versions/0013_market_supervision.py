"""market supervision: inspectors, random-inspection plans and draws, results, net-content inspections,
credit events, complaints and enforcement cases (issue 12)

Revision ID: 0013
Revises: 0006
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "market_inspectors",
        _id(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("user_id", ID, nullable=True),
        sa.Column("organisation_id", ID, nullable=True),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_market_inspectors_user_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_market_inspectors_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_market_inspectors_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_inspectors")),
    )
    op.create_index("ix_market_inspectors_region_code", "market_inspectors", ["region_code"])
    op.create_table(
        "market_inspector_relations",
        _id(),
        sa.Column("inspector_id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["market_inspectors.id"],
            name=op.f("fk_market_inspector_relations_inspector_id_market_inspectors"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_market_inspector_relations_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_inspector_relations")),
        sa.UniqueConstraint("inspector_id", "organisation_id", name="uq_market_inspector_relations_pair"),
    )
    op.create_table(
        "market_plans",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("org_kinds", sa.JSON(), nullable=False),
        sa.Column("item_code", sa.String(10), nullable=True),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("quotas", sa.JSON(), nullable=True),
        sa.Column("strata_by", sa.String(20), nullable=False),
        sa.Column("team_size", sa.Integer(), nullable=False),
        sa.Column("lookback_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("seed_commitment", sa.String(64), nullable=True),
        sa.Column("seed", sa.String(64), nullable=True),
        sa.Column("population", sa.JSON(), nullable=True),
        sa.Column("population_sha256", sa.String(64), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_market_plans_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_plans")),
    )
    op.create_index("ix_market_plans_region_code", "market_plans", ["region_code"])
    op.create_table(
        "market_targets",
        _id(),
        sa.Column("plan_id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("stratum", sa.String(100), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["market_plans.id"], name=op.f("fk_market_targets_plan_id_market_plans")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_market_targets_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_targets")),
        sa.UniqueConstraint("plan_id", "organisation_id", name="uq_market_targets_plan_org"),
    )
    op.create_index("ix_market_targets_plan_id", "market_targets", ["plan_id"])
    op.create_index("ix_market_targets_organisation_id", "market_targets", ["organisation_id"])
    op.create_table(
        "market_results",
        _id(),
        sa.Column("target_id", ID, nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("instruments", sa.JSON(), nullable=False),
        sa.Column("conclusion", sa.String(12), nullable=False),
        sa.Column("supersedes_id", ID, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["target_id"], ["market_targets.id"], name=op.f("fk_market_results_target_id_market_targets")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_market_results_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["market_results.id"],
            name=op.f("fk_market_results_supersedes_id_market_results"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_results")),
        sa.UniqueConstraint("supersedes_id", name="uq_market_results_supersedes_id"),
    )
    op.create_index("ix_market_results_target_id", "market_results", ["target_id"])
    op.create_index("ix_market_results_organisation_id", "market_results", ["organisation_id"])
    op.create_table(
        "net_content_inspections",
        _id(),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("target_id", ID, nullable=True),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("ruleset", sa.String(30), nullable=False),
        sa.Column("nominal", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("lot_size", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_net_content_inspections_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["market_targets.id"],
            name=op.f("fk_net_content_inspections_target_id_market_targets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_net_content_inspections")),
    )
    op.create_index(
        "ix_net_content_inspections_organisation_id", "net_content_inspections", ["organisation_id"]
    )
    op.create_table(
        "credit_events",
        _id(),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source_type", sa.String(30), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credit_events_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_events")),
    )
    op.create_index("ix_credit_events_org_day", "credit_events", ["organisation_id", "occurred_on"])
    op.create_table(
        "enforcement_cases",
        _id(),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("organisation_id", ID, nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("source_type", sa.String(20), nullable=False),
        sa.Column("source_id", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(14), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("investigate_by", sa.Date(), nullable=False),
        sa.Column("decide_by", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("close_by", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("violation", sa.Boolean(), nullable=True),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("penalty", sa.String(200), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_enforcement_cases_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_enforcement_cases_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enforcement_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_enforcement_cases_number")),
    )
    op.create_index("ix_enforcement_cases_organisation_id", "enforcement_cases", ["organisation_id"])
    op.create_index("ix_enforcement_cases_region_code", "enforcement_cases", ["region_code"])
    op.create_table(
        "complaints",
        _id(),
        sa.Column("receipt_sha256", sa.String(64), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("organisation_id", ID, nullable=True),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_ciphertext", sa.Text(), nullable=True),
        sa.Column("status", sa.String(14), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("reward", sa.String(200), nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_complaints_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_complaints_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["enforcement_cases.id"], name=op.f("fk_complaints_case_id_enforcement_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("receipt_sha256", name=op.f("uq_complaints_receipt_sha256")),
    )
    op.create_index("ix_complaints_region_code", "complaints", ["region_code"])
    op.create_index("ix_complaints_organisation_id", "complaints", ["organisation_id"])


def downgrade() -> None:
    for table in (
        "complaints",
        "enforcement_cases",
        "credit_events",
        "net_content_inspections",
        "market_results",
        "market_targets",
        "market_plans",
        "market_inspector_relations",
        "market_inspectors",
    ):
        op.drop_table(table)
