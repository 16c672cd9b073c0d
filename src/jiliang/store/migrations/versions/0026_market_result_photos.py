"""market result photos: the field inspectors' photo evidence of a result, stored with its SHA-256
(issue 12)

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-08 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "market_result_photos",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("result_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_id"], ["market_results.id"], name=op.f("fk_market_result_photos_result_id_market_results")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_result_photos")),
        sa.UniqueConstraint("result_id", "position", name="uq_market_result_photos_result_position"),
    )


def downgrade() -> None:
    op.drop_table("market_result_photos")
