"""Service days count the vehicle events that move the plan.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``service_days.events``: days kept in memory are loaded again when it moves."""
    with op.batch_alter_table("service_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop ``service_days.events``."""
    with op.batch_alter_table("service_days", schema=None) as batch_op:
        batch_op.drop_column("events")
