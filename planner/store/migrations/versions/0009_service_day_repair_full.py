"""Service days say whether the repair at offer time judged them full.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 03:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``service_days.repair_full``: a new server process starts from what others learnt."""
    with op.batch_alter_table("service_days", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("repair_full", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop ``service_days.repair_full``."""
    with op.batch_alter_table("service_days", schema=None) as batch_op:
        batch_op.drop_column("repair_full")
