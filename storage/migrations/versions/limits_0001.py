"""limits: counters shared by every replica (admin wrong-token lock-out, rate limits on PostgreSQL)

Revision ID: limits_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "limits_0001"
down_revision = "0001_foundation"
branch_labels = ("limits",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "bucket", name="pk_limit_counters"),
    )


def downgrade() -> None:
    op.drop_table("limit_counters")
