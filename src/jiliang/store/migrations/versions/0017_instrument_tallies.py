"""instrument tallies: today's coverage and overdue counts kept up to date by triggers (issue 10, Fast)

Two derived tables count the compulsory instruments per (region, item, status) and per (region, item,
status, valid_until); one row remembers the latest filing date seen. Triggers on ``instruments`` keep
them in the same transaction as every write that changes an instrument's summary, whatever the path
(the ORM, the bulk importers' Core inserts, a hand-written UPDATE). ``services.indicators`` reads them
for today's indicators; see docs/indicators.md.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NEVER = "0001-01-01"  # valid_until of an instrument never verified: before every cutoff

_KEY = "region_code, item_code, status"
_TALLY_KEY = "region_code, item_code, status, valid_until"
_CHANGED = (
    "OLD.compulsory IS DISTINCT FROM NEW.compulsory OR OLD.region_code IS DISTINCT FROM NEW.region_code"
    " OR OLD.item_code IS DISTINCT FROM NEW.item_code OR OLD.status IS DISTINCT FROM NEW.status"
    " OR OLD.valid_until IS DISTINCT FROM NEW.valid_until"
)


def _add(row: str, sign: str, never: str) -> list[str]:
    """Statements adding ``sign``1 for the instrument ``row`` (NEW or OLD) to both tallies."""
    return [
        f"INSERT INTO instrument_totals ({_KEY}, n) "
        f"VALUES ({row}.region_code, {row}.item_code, {row}.status, {sign}1) "
        f"ON CONFLICT ({_KEY}) DO UPDATE SET n = instrument_totals.n {sign} 1",
        f"INSERT INTO instrument_tallies ({_TALLY_KEY}, n) VALUES ({row}.region_code, {row}.item_code, "
        f"{row}.status, COALESCE({row}.valid_until, {never}), {sign}1) "
        f"ON CONFLICT ({_TALLY_KEY}) DO UPDATE SET n = instrument_tallies.n {sign} 1",
    ]


def _filed() -> str:
    """Remember the latest filing date (the row is made again if a test truncated the table)."""
    return (
        "INSERT INTO instrument_tally_state (id, latest_filed_on) SELECT 1, NEW.filed_on "
        "WHERE NOT EXISTS (SELECT 1 FROM instrument_tally_state) ON CONFLICT (id) DO NOTHING; "
        "UPDATE instrument_tally_state SET latest_filed_on = NEW.filed_on "
        "WHERE latest_filed_on IS NULL OR latest_filed_on < NEW.filed_on"
    )


def _sqlite_triggers() -> list[str]:
    never = f"'{NEVER}'"
    changed = _CHANGED.replace("IS DISTINCT FROM", "IS NOT")

    def body(*stmts: str) -> str:
        return "BEGIN " + "; ".join(stmts) + "; END"

    return [
        "CREATE TRIGGER instruments_tally_insert AFTER INSERT ON instruments WHEN NEW.compulsory "
        + body(*_add("NEW", "+", never)),
        "CREATE TRIGGER instruments_tally_filed_insert AFTER INSERT ON instruments " + body(_filed()),
        "CREATE TRIGGER instruments_tally_delete AFTER DELETE ON instruments WHEN OLD.compulsory "
        + body(*_add("OLD", "-", never)),
        f"CREATE TRIGGER instruments_tally_update_old AFTER UPDATE ON instruments "
        f"WHEN OLD.compulsory AND ({changed}) " + body(*_add("OLD", "-", never)),
        f"CREATE TRIGGER instruments_tally_update_new AFTER UPDATE ON instruments "
        f"WHEN NEW.compulsory AND ({changed}) " + body(*_add("NEW", "+", never)),
        "CREATE TRIGGER instruments_tally_filed_update AFTER UPDATE OF filed_on ON instruments "
        + body(_filed()),
    ]


def _pg_apply(rows: str) -> str:
    """PL/pgSQL applying the signed rows ``rows`` (a SELECT of key columns, valid_until, filed_on, d)."""
    never = f"DATE '{NEVER}'"
    return f"""
    INSERT INTO instrument_totals ({_KEY}, n)
      SELECT {_KEY}, SUM(d) FROM ({rows}) c WHERE compulsory GROUP BY {_KEY} HAVING SUM(d) <> 0
      ON CONFLICT ({_KEY}) DO UPDATE SET n = instrument_totals.n + EXCLUDED.n;
    INSERT INTO instrument_tallies ({_TALLY_KEY}, n)
      SELECT region_code, item_code, status, COALESCE(valid_until, {never}), SUM(d) FROM ({rows}) c
      WHERE compulsory GROUP BY region_code, item_code, status, COALESCE(valid_until, {never})
      HAVING SUM(d) <> 0
      ON CONFLICT ({_TALLY_KEY}) DO UPDATE SET n = instrument_tallies.n + EXCLUDED.n;
    INSERT INTO instrument_tally_state (id, latest_filed_on)
      SELECT 1, MAX(filed_on) FROM ({rows}) c WHERE d > 0 HAVING COUNT(*) > 0
      ON CONFLICT (id) DO UPDATE SET latest_filed_on = EXCLUDED.latest_filed_on
      WHERE instrument_tally_state.latest_filed_on IS NULL
         OR instrument_tally_state.latest_filed_on < EXCLUDED.latest_filed_on;"""


def _postgres_triggers() -> list[str]:
    """Statement-level triggers over transition tables: one aggregated upsert per statement (a COPY of
    a bulk import included), not one per row."""
    cols = "region_code, item_code, status, compulsory, valid_until, filed_on"
    new = f"SELECT {cols}, 1 AS d FROM new_rows"
    old = f"SELECT {cols}, -1 AS d FROM old_rows"
    function = f"""
CREATE FUNCTION instruments_tally() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN {_pg_apply(new)}
  ELSIF TG_OP = 'DELETE' THEN {_pg_apply(old)}
  ELSE {_pg_apply(old + " UNION ALL " + new)}
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql"""
    return [
        function,
        "CREATE TRIGGER instruments_tally_insert AFTER INSERT ON instruments "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION instruments_tally()",
        "CREATE TRIGGER instruments_tally_update AFTER UPDATE ON instruments "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION instruments_tally()",
        "CREATE TRIGGER instruments_tally_delete AFTER DELETE ON instruments "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION instruments_tally()",
    ]


def upgrade() -> None:
    op.create_table(
        "instrument_totals",
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("item_code", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "item_code", "status", name=op.f("pk_instrument_totals")),
    )
    op.create_table(
        "instrument_tallies",
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("item_code", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "region_code", "item_code", "status", "valid_until", name=op.f("pk_instrument_tallies")
        ),
    )
    # covering: the expired and the due-soon sums read this index alone
    op.create_index(
        "ix_instrument_tallies_expiry",
        "instrument_tallies",
        ["status", "valid_until", "region_code", "item_code", "n"],
    )
    op.create_table(
        "instrument_tally_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("latest_filed_on", sa.Date(), nullable=True),
        # expiry dates before this day are folded into 0001-01-01 (services.tallies.compact)
        sa.Column("folded_before", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_tally_state")),
    )
    bind = op.get_bind()
    never = f"DATE '{NEVER}'" if bind.dialect.name == "postgresql" else f"'{NEVER}'"
    # backfill from the registry as it stands, then let the triggers keep it
    op.execute(
        f"INSERT INTO instrument_totals ({_KEY}, n) SELECT {_KEY}, COUNT(*) FROM instruments "
        f"WHERE compulsory GROUP BY {_KEY}"
    )
    op.execute(
        f"INSERT INTO instrument_tallies ({_TALLY_KEY}, n) SELECT region_code, item_code, status, "
        f"COALESCE(valid_until, {never}), COUNT(*) FROM instruments WHERE compulsory "
        f"GROUP BY region_code, item_code, status, COALESCE(valid_until, {never})"
    )
    op.execute(
        "INSERT INTO instrument_tally_state (id, latest_filed_on) SELECT 1, MAX(filed_on) FROM instruments"
    )
    triggers = _postgres_triggers() if bind.dialect.name == "postgresql" else _sqlite_triggers()
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER instruments_tally_{name} ON instruments")
        op.execute("DROP FUNCTION instruments_tally()")
    else:
        for name in (
            "insert",
            "filed_insert",
            "delete",
            "update_old",
            "update_new",
            "filed_update",
        ):
            op.execute(f"DROP TRIGGER instruments_tally_{name}")
    op.drop_table("instrument_tally_state")
    op.drop_index("ix_instrument_tallies_expiry", table_name="instrument_tallies")
    op.drop_table("instrument_tallies")
    op.drop_table("instrument_totals")
