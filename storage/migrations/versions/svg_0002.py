"""svg: each SVG engine vote records whether the comparison was blind

Until the comparison drew which engine is shown as A (review16), "Engine A" was always shown as A, so every vote
knew the engines. Votes stored before this revision were not blind: they get `blind = false` and stay in the
table (votes are append-only) but no longer count in the SVG engine ratings. The vote repo sets `blind = true`
explicitly on every new vote; the server default only fills the old rows.

Revision ID: svg_0002
Revises: trust_0001 (it added svg_votes.pair_key)
"""
import sqlalchemy as sa
from alembic import op

revision = "svg_0002"
down_revision = "trust_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("svg_votes") as b:
        b.add_column(sa.Column("blind", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("svg_votes") as b:
        b.drop_column("blind")
