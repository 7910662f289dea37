"""Plan versions as changes: a version holds only the routes it changed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``plan_versions.full``; every version stored so far holds the whole plan."""
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("full", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    op.create_index(
        "ix_plan_versions_day_full_version",
        "plan_versions",
        ["day", "full", "version"],
        unique=False,
    )


def downgrade() -> None:
    """Write every version's whole plan back, then drop the column and its index."""
    versions = sa.table(
        "plan_versions",
        sa.column("id", sa.Integer),
        sa.column("day", sa.String),
        sa.column("version", sa.Integer),
        sa.column("routes", sa.JSON),
        sa.column("full", sa.Boolean),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(versions.c.id, versions.c.day, versions.c.routes, versions.c.full).order_by(
            versions.c.day, versions.c.version
        )
    )
    plan: dict = {}
    day = None
    # replayed here, not with planner.booking.day.with_changes: a migration must keep
    # working whatever the application's code becomes later
    for row in rows.all():
        if row.day != day:
            day, plan = row.day, {}
        plan = {v: plan.get(v, []) if stops is None else stops for v, stops in row.routes.items()}
        if not row.full:
            bind.execute(
                sa.update(versions).where(versions.c.id == row.id).values(routes=plan, full=True)
            )
    op.drop_index("ix_plan_versions_day_full_version", table_name="plan_versions")
    with op.batch_alter_table("plan_versions", schema=None) as batch_op:
        batch_op.drop_column("full")
