"""An index to find a day's last re-optimisation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 11:00:00.000000
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Index ``plan_versions`` by (day, reason, version): no plan is read to find it."""
    op.create_index(
        "ix_plan_versions_day_reason_version",
        "plan_versions",
        ["day", "reason", "version"],
        unique=False,
    )


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_plan_versions_day_reason_version", table_name="plan_versions")
