"""places of use (一站一码), verification bookings (预约), catalogue versions activated from a date

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A catalogue version is in force from its own date (the latest date not after the day asked wins),
    # instead of one boolean flag: a new version can be scheduled ahead of the day it takes over.
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.add_column(sa.Column("active_from", sa.Date(), nullable=True))
        batch.add_column(sa.Column("source_name", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("sha256", sa.String(length=64), nullable=False, server_default=""))
    # The version that was active stays in force from its items' earliest date (the announcement's).
    op.execute(
        "UPDATE catalogue_versions SET active_from = (SELECT min(effective_from) FROM catalogue_items "
        "WHERE catalogue_items.version = catalogue_versions.version) WHERE active"
    )
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.drop_column("active")

    op.create_table(
        "places",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("operator_id", BIG, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_places_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"], ["organisations.id"], name=op.f("fk_places_operator_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("code", name=op.f("uq_places_code")),
    )
    op.create_index("ix_places_region_name", "places", ["region_code", "name"])
    op.create_index(op.f("ix_places_operator_id"), "places", ["operator_id"])

    op.create_table(
        "place_instruments",
        sa.Column("instrument_id", BIG, autoincrement=False, nullable=False),
        sa.Column("place_id", BIG, nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_place_instruments_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_place_instruments_place_id_places")
        ),
        sa.PrimaryKeyConstraint("instrument_id", name=op.f("pk_place_instruments")),
    )
    op.create_index(op.f("ix_place_instruments_place_id"), "place_instruments", ["place_id"])

    op.create_table(
        "bookings",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("instrument_id", BIG, nullable=False),
        sa.Column("owner_id", BIG, nullable=False),
        sa.Column("institution_id", BIG, nullable=False),
        sa.Column("preferred_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_bookings_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["organisations.id"], name=op.f("fk_bookings_owner_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["organisations.id"], name=op.f("fk_bookings_institution_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    op.create_index("ix_bookings_institution_status", "bookings", ["institution_id", "status"])
    op.create_index("ix_bookings_owner", "bookings", ["owner_id", "created_at"])
    op.create_index("ix_bookings_instrument", "bookings", ["instrument_id"])


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("place_instruments")
    op.drop_index("ix_places_region_name", table_name="places")
    op.drop_table("places")
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE catalogue_versions SET active = true WHERE version = (SELECT version FROM catalogue_versions "
        "WHERE active_from IS NOT NULL ORDER BY active_from DESC, loaded_at DESC LIMIT 1)"
    )
    with op.batch_alter_table("catalogue_versions") as batch:
        batch.drop_column("sha256")
        batch.drop_column("source_name")
        batch.drop_column("active_from")
