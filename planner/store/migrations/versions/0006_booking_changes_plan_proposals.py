"""Booking changes (a booking's history) and re-optimised plans awaiting a dispatcher.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``booking_changes`` and ``plan_proposals``."""
    op.create_table(
        "booking_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_code", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_booking_changes_booking_code"), ["booking_code"], unique=False
        )
    op.create_table(
        "plan_proposals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("routes", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_proposals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_proposals_day"), ["day"], unique=False)


def downgrade() -> None:
    """Drop both tables."""
    with op.batch_alter_table("plan_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_proposals_day"))
    op.drop_table("plan_proposals")
    with op.batch_alter_table("booking_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_changes_booking_code"))
    op.drop_table("booking_changes")
