"""remote supervision: devices with credentials, readings stored once, quarantine, warnings (issue 11)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", ID, autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "telemetry_devices",
        _id(),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("instrument_id", ID, nullable=False),
        sa.Column("instrument_type", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("gateway_id", ID, nullable=True),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("detector_state", sa.JSON(), nullable=True),
        sa.Column("readings_count", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"], ["instruments.id"], name=op.f("fk_telemetry_devices_instrument_id_instruments")
        ),
        sa.ForeignKeyConstraint(
            ["region_code"], ["regions.code"], name=op.f("fk_telemetry_devices_region_code_regions")
        ),
        sa.ForeignKeyConstraint(
            ["gateway_id"],
            ["telemetry_devices.id"],
            name=op.f("fk_telemetry_devices_gateway_id_telemetry_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_devices")),
        sa.UniqueConstraint("device_id", name=op.f("uq_telemetry_devices_device_id")),
        sa.UniqueConstraint("instrument_id", name=op.f("uq_telemetry_devices_instrument_id")),
    )
    op.create_index("ix_telemetry_devices_region_code", "telemetry_devices", ["region_code"])
    op.create_table(
        "telemetry_readings",
        _id(),
        sa.Column("device_pk", ID, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("device_time", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("schema", sa.String(60), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_pk"],
            ["telemetry_devices.id"],
            name=op.f("fk_telemetry_readings_device_pk_telemetry_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_readings")),
        sa.UniqueConstraint("device_pk", "message_id", name="uq_telemetry_readings_device_message"),
    )
    op.create_index("ix_telemetry_readings_device_time", "telemetry_readings", ["device_pk", "device_time"])
    op.create_table(
        "telemetry_quarantine",
        _id(),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("field", sa.String(120), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_quarantine")),
    )
    op.create_index("ix_telemetry_quarantine_received_at", "telemetry_quarantine", ["received_at"])
    op.create_index("ix_telemetry_quarantine_device_id", "telemetry_quarantine", ["device_id"])
    op.create_table(
        "telemetry_warnings",
        _id(),
        sa.Column("device_pk", ID, nullable=False),
        sa.Column("detector", sa.String(20), nullable=False),
        sa.Column("condition", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("raised_message_id", sa.String(64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("cleared_at", TS, nullable=True),
        sa.Column("cleared_message_id", sa.String(64), nullable=True),
        sa.Column("clear_evidence", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_pk"],
            ["telemetry_devices.id"],
            name=op.f("fk_telemetry_warnings_device_pk_telemetry_devices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telemetry_warnings")),
    )
    op.create_index("ix_telemetry_warnings_device_status", "telemetry_warnings", ["device_pk", "status"])


def downgrade() -> None:
    for table in ("telemetry_warnings", "telemetry_quarantine", "telemetry_readings", "telemetry_devices"):
        op.drop_table(table)
