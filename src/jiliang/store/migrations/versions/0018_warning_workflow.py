"""warning workflow (预警 → 处置): remote-supervision warnings and energy imbalances worked to closure

``telemetry_warnings`` becomes the one warning table of remote supervision and energy monitoring: a
warning names its instrument, region and owner (backfilled from the device), an energy imbalance has no
device (``device_pk`` nullable, ``energy_check_id`` set), and each warning carries its workflow state
(new → assigned → inspected → disposed → closed), deadline, assignee, inspection and disposal.
``warning_actions`` keeps every step with who took it (docs/telemetry.md, "Warning workflow").

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)

_FKS = (
    ("instrument_id", "instruments", "id"),
    ("region_code", "regions", "code"),
    ("owner_id", "organisations", "id"),
    ("energy_check_id", "energy_balance_checks", "id"),
    ("assignee_id", "users", "id"),
    ("case_id", "enforcement_cases", "id"),
)


def upgrade() -> None:
    with op.batch_alter_table("telemetry_warnings") as batch:
        batch.alter_column("device_pk", existing_type=ID, nullable=True)
        batch.add_column(sa.Column("source", sa.String(10), nullable=False, server_default="telemetry"))
        batch.add_column(sa.Column("instrument_id", ID, nullable=True))
        batch.add_column(sa.Column("region_code", sa.String(6), nullable=True))
        batch.add_column(sa.Column("owner_id", ID, nullable=True))
        batch.add_column(sa.Column("energy_check_id", ID, nullable=True))
        batch.add_column(sa.Column("state", sa.String(12), nullable=False, server_default="new"))
        batch.add_column(sa.Column("due_at", TS, nullable=True))
        batch.add_column(sa.Column("assignee_id", ID, nullable=True))
        batch.add_column(sa.Column("assigned_at", TS, nullable=True))
        batch.add_column(sa.Column("inspected_at", TS, nullable=True))
        batch.add_column(sa.Column("findings", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("measured_error", sa.Float(), nullable=True))
        batch.add_column(sa.Column("confirmed", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("disposal", sa.String(12), nullable=True))
        batch.add_column(sa.Column("disposal_note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("disposed_at", TS, nullable=True))
        batch.add_column(sa.Column("closed_at", TS, nullable=True))
        batch.add_column(sa.Column("close_note", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("case_id", ID, nullable=True))
        for column, table, remote in _FKS:
            batch.create_foreign_key(
                op.f(f"fk_telemetry_warnings_{column}_{table}"), table, [column], [remote]
            )
    op.execute(
        "UPDATE telemetry_warnings SET"
        " instrument_id = (SELECT d.instrument_id FROM telemetry_devices d WHERE d.id = telemetry_warnings.device_pk),"
        " region_code = (SELECT d.region_code FROM telemetry_devices d WHERE d.id = telemetry_warnings.device_pk)"
    )
    op.execute(
        "UPDATE telemetry_warnings SET owner_id ="
        " (SELECT i.owner_id FROM instruments i WHERE i.id = telemetry_warnings.instrument_id)"
    )
    _backfill_deadlines()
    op.create_index("ix_telemetry_warnings_region_state", "telemetry_warnings", ["region_code", "state"])
    op.create_index("ix_telemetry_warnings_assignee", "telemetry_warnings", ["assignee_id", "state"])
    op.create_index("ix_telemetry_warnings_instrument", "telemetry_warnings", ["instrument_id", "status"])
    op.create_table(
        "warning_actions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("warning_id", ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(100), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("from_state", sa.String(12), nullable=False),
        sa.Column("to_state", sa.String(12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["telemetry_warnings.id"],
            name=op.f("fk_warning_actions_warning_id_telemetry_warnings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warning_actions")),
    )
    op.create_index("ix_warning_actions_warning_id", "warning_actions", ["warning_id"])


def _backfill_deadlines() -> None:
    """Warnings raised before 0018 get the default deadline of their severity (the settings' defaults:
    72 h critical, 168 h warning, 720 h info), so that "overdue" is one indexed comparison for every row."""
    hours = {"critical": 72.0, "warning": 168.0}
    t = sa.table(
        "telemetry_warnings",
        sa.column("id", ID),
        sa.column("severity", sa.String(10)),
        sa.column("raised_at", TS),
        sa.column("due_at", TS),
    )
    bind = op.get_bind()
    for wid, severity, raised in bind.execute(sa.select(t.c.id, t.c.severity, t.c.raised_at)).all():
        due = raised + timedelta(hours=hours.get(severity, 720.0))
        bind.execute(t.update().where(t.c.id == wid).values(due_at=due))


def downgrade() -> None:
    op.drop_table("warning_actions")
    op.drop_index("ix_telemetry_warnings_instrument", "telemetry_warnings")
    op.drop_index("ix_telemetry_warnings_assignee", "telemetry_warnings")
    op.drop_index("ix_telemetry_warnings_region_state", "telemetry_warnings")
    with op.batch_alter_table("telemetry_warnings") as batch:
        for column, table, _remote in _FKS:
            batch.drop_constraint(op.f(f"fk_telemetry_warnings_{column}_{table}"), type_="foreignkey")
        for column in (
            "case_id",
            "close_note",
            "closed_at",
            "disposed_at",
            "disposal_note",
            "disposal",
            "confirmed",
            "measured_error",
            "findings",
            "inspected_at",
            "assigned_at",
            "assignee_id",
            "due_at",
            "state",
            "energy_check_id",
            "owner_id",
            "region_code",
            "instrument_id",
            "source",
        ):
            batch.drop_column(column)
        batch.alter_column("device_pk", existing_type=ID, nullable=False)
