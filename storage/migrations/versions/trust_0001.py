"""trust: vote exclusions, network hash on battles, shared prompt pools, one SVG vote per pair

Revision ID: trust_0001
Revises: anomaly_0001, arena_0001, svg_0001 (it alters their tables)
"""
import sqlalchemy as sa
from alembic import op

revision = "trust_0001"
down_revision = ("anomaly_0001", "arena_0001", "svg_0001")
branch_labels = ("trust",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "arena_vote_exclusions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("battle_id", sa.String(32), sa.ForeignKey("arena_battles.id"), nullable=False, unique=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.String(256), nullable=True),
    )
    with op.batch_alter_table("arena_battles") as b:
        b.add_column(sa.Column("net_hash", sa.String(64), nullable=True))
        b.create_index("ix_arena_battles_net_hash", ["net_hash"])
    with op.batch_alter_table("anomaly_prompt_pools") as b:
        b.add_column(sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("svg_votes") as b:
        b.add_column(sa.Column("pair_key", sa.String(64), nullable=True))
        b.create_unique_constraint("uq_svg_votes_pair_key", ["pair_key"])


def downgrade() -> None:
    with op.batch_alter_table("svg_votes") as b:
        b.drop_constraint("uq_svg_votes_pair_key", type_="unique")
        b.drop_column("pair_key")
    with op.batch_alter_table("anomaly_prompt_pools") as b:
        b.drop_column("shared")
    with op.batch_alter_table("arena_battles") as b:
        b.drop_index("ix_arena_battles_net_hash")
        b.drop_column("net_hash")
    op.drop_table("arena_vote_exclusions")
