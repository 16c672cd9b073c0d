"""energy metering and carbon: key energy-using units, metering trees (versioned), GB 17167 reviews with
their shortfalls, reported periods of readings with consumption, balance checks, standard coal and carbon
(issue 13)

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "energy_units",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("organisation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("energy_types", sa.JSON(), nullable=False),
        sa.Column("annual_tce", sa.Float(), nullable=False),
        sa.Column("threshold_tce", sa.Float(), nullable=False),
        sa.Column("rule_set", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_energy_units_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_energy_units_region_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_units")),
        sa.UniqueConstraint("organisation_id", name=op.f("uq_energy_units_organisation_id")),
    )
    op.create_index(op.f("ix_energy_units_region_code"), "energy_units", ["region_code"], unique=False)
    op.create_table(
        "energy_topologies",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["energy_units.id"], name=op.f("fk_energy_topologies_unit_id_energy_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_topologies")),
    )
    op.create_index(op.f("ix_energy_topologies_unit_id"), "energy_topologies", ["unit_id"], unique=False)
    op.create_table(
        "energy_nodes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("topology_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("parent_key", sa.String(length=50), nullable=True),
        sa.Column("demand", sa.JSON(), nullable=False),
        sa.Column("supply_points", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topology_id"],
            ["energy_topologies.id"],
            name=op.f("fk_energy_nodes_topology_id_energy_topologies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_nodes")),
        sa.UniqueConstraint("topology_id", "key", name="uq_energy_nodes_topology_key"),
    )
    op.create_index(op.f("ix_energy_nodes_topology_id"), "energy_nodes", ["topology_id"], unique=False)
    op.create_table(
        "energy_periods",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topology_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("coal", sa.JSON(), nullable=False),
        sa.Column("carbon", sa.JSON(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topology_id"],
            ["energy_topologies.id"],
            name=op.f("fk_energy_periods_topology_id_energy_topologies"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["energy_units.id"], name=op.f("fk_energy_periods_unit_id_energy_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_periods")),
    )
    op.create_index(
        "ix_energy_periods_unit_start", "energy_periods", ["unit_id", "period_start"], unique=False
    )
    op.create_table(
        "energy_points",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("topology_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("key", sa.String(length=50), nullable=False),
        sa.Column("node_key", sa.String(length=50), nullable=False),
        sa.Column("energy_type", sa.String(length=20), nullable=False),
        sa.Column("meter_kind", sa.String(length=30), nullable=False),
        sa.Column("instrument_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_energy_points_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["topology_id"],
            ["energy_topologies.id"],
            name=op.f("fk_energy_points_topology_id_energy_topologies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_points")),
        sa.UniqueConstraint("topology_id", "instrument_id", name="uq_energy_points_topology_instrument"),
        sa.UniqueConstraint("topology_id", "key", name="uq_energy_points_topology_key"),
    )
    op.create_index(op.f("ix_energy_points_instrument_id"), "energy_points", ["instrument_id"], unique=False)
    op.create_index(op.f("ix_energy_points_topology_id"), "energy_points", ["topology_id"], unique=False)
    op.create_table(
        "energy_reviews",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("topology_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("review_date", sa.Date(), nullable=False),
        sa.Column("rule_set", sa.String(length=40), nullable=False),
        sa.Column("compliant", sa.Boolean(), nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.Column("meters", sa.JSON(), nullable=False),
        sa.Column("provisional_rules", sa.Integer(), nullable=False),
        sa.Column("run_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topology_id"],
            ["energy_topologies.id"],
            name=op.f("fk_energy_reviews_topology_id_energy_topologies"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["energy_units.id"], name=op.f("fk_energy_reviews_unit_id_energy_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_reviews")),
    )
    op.create_index(op.f("ix_energy_reviews_unit_id"), "energy_reviews", ["unit_id"], unique=False)
    op.create_table(
        "energy_balance_checks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_key", sa.String(length=50), nullable=False),
        sa.Column("energy_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("parent", sa.Float(), nullable=True),
        sa.Column("children", sa.Float(), nullable=True),
        sa.Column("difference", sa.Float(), nullable=True),
        sa.Column("tolerance", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["energy_periods.id"],
            name=op.f("fk_energy_balance_checks_period_id_energy_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["energy_units.id"], name=op.f("fk_energy_balance_checks_unit_id_energy_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_balance_checks")),
    )
    op.create_index("ix_energy_balance_checks_period", "energy_balance_checks", ["period_id"], unique=False)
    op.create_index(
        op.f("ix_energy_balance_checks_unit_id"), "energy_balance_checks", ["unit_id"], unique=False
    )
    op.create_table(
        "energy_consumption",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("node_key", sa.String(length=50), nullable=False),
        sa.Column("energy_type", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["energy_periods.id"], name=op.f("fk_energy_consumption_period_id_energy_periods")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_consumption")),
    )
    op.create_index("ix_energy_consumption_period", "energy_consumption", ["period_id"], unique=False)
    op.create_table(
        "energy_readings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("period_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("point_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"], ["energy_periods.id"], name=op.f("fk_energy_readings_period_id_energy_periods")
        ),
        sa.ForeignKeyConstraint(
            ["point_id"], ["energy_points.id"], name=op.f("fk_energy_readings_point_id_energy_points")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_readings")),
        sa.UniqueConstraint("period_id", "point_id", "day", name="uq_energy_readings_point_day"),
    )
    op.create_index(op.f("ix_energy_readings_point_id"), "energy_readings", ["point_id"], unique=False)
    op.create_table(
        "energy_shortfalls",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("review_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("clause", sa.String(length=60), nullable=False),
        sa.Column("message_zh", sa.String(length=500), nullable=False),
        sa.Column("message_en", sa.String(length=500), nullable=False),
        sa.Column("node_key", sa.String(length=50), nullable=False),
        sa.Column("energy_type", sa.String(length=20), nullable=False),
        sa.Column("meter", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["energy_reviews.id"], name=op.f("fk_energy_shortfalls_review_id_energy_reviews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_shortfalls")),
    )
    op.create_index(op.f("ix_energy_shortfalls_review_id"), "energy_shortfalls", ["review_id"], unique=False)
    # ### end Alembic commands ###


def downgrade() -> None:
    op.drop_index(op.f("ix_energy_shortfalls_review_id"), table_name="energy_shortfalls")
    op.drop_table("energy_shortfalls")
    op.drop_index(op.f("ix_energy_readings_point_id"), table_name="energy_readings")
    op.drop_table("energy_readings")
    op.drop_index("ix_energy_consumption_period", table_name="energy_consumption")
    op.drop_table("energy_consumption")
    op.drop_index(op.f("ix_energy_balance_checks_unit_id"), table_name="energy_balance_checks")
    op.drop_index("ix_energy_balance_checks_period", table_name="energy_balance_checks")
    op.drop_table("energy_balance_checks")
    op.drop_index(op.f("ix_energy_reviews_unit_id"), table_name="energy_reviews")
    op.drop_table("energy_reviews")
    op.drop_index(op.f("ix_energy_points_topology_id"), table_name="energy_points")
    op.drop_index(op.f("ix_energy_points_instrument_id"), table_name="energy_points")
    op.drop_table("energy_points")
    op.drop_index("ix_energy_periods_unit_start", table_name="energy_periods")
    op.drop_table("energy_periods")
    op.drop_index(op.f("ix_energy_nodes_topology_id"), table_name="energy_nodes")
    op.drop_table("energy_nodes")
    op.drop_index(op.f("ix_energy_topologies_unit_id"), table_name="energy_topologies")
    op.drop_table("energy_topologies")
    op.drop_index(op.f("ix_energy_units_region_code"), table_name="energy_units")
    op.drop_table("energy_units")
    # ### end Alembic commands ###
