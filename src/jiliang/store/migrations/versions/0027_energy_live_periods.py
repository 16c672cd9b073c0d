"""energy periods folded from live readings: where a period came from, and its hours (issue 13)

``energy_periods.source`` says whether a period was uploaded as a file (``upload``, every existing row) or
folded from the readings of remote supervision (``live``, services/energy/live.py); ``hourly`` holds a
live day's consumption per point and per node and energy for each hour (NULL for uploads).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-08 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("energy_periods") as batch:
        batch.add_column(sa.Column("source", sa.String(10), nullable=False, server_default="upload"))
        batch.add_column(sa.Column("hourly", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("energy_periods") as batch:
        batch.drop_column("hourly")
        batch.drop_column("source")
