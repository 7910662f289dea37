"""Vehicle events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the journal of what vehicles report (drivers' events, positions)."""
    op.create_table(
        "vehicle_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("vehicle_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("booking_code", sa.String(length=16), nullable=True),
        sa.Column("stop_node", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("driver", sa.String(length=80), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("vehicle_id", "client_id"),
    )
    with op.batch_alter_table("vehicle_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicle_events_day"), ["day"], unique=False)


def downgrade() -> None:
    """Drop the journal of vehicle events."""
    with op.batch_alter_table("vehicle_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicle_events_day"))
    op.drop_table("vehicle_events")
