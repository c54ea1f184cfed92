"""arena: battles and append-only votes

Revision ID: arena_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "arena_0001"
down_revision = "0001_foundation"
branch_labels = ("arena",)
depends_on = None


def _session_fk(table: str):
    return sa.ForeignKey("sessions.id", name=f"fk_{table}_session_id_sessions")


def upgrade() -> None:
    op.create_table(
        "arena_battles",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), _session_fk("arena_battles"), nullable=True),
        sa.Column("judge_id", sa.String(64), nullable=True),
        sa.Column("ip_hash", sa.String(64), nullable=True),
        sa.Column("image_sha256", sa.String(64), nullable=True),
        sa.Column("image_source", sa.String(256), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("prompt_template", sa.String(64), nullable=True),
        sa.Column("model_a", sa.String(128), nullable=False),
        sa.Column("model_b", sa.String(128), nullable=False),
        sa.Column("version_a", sa.String(128), nullable=True),
        sa.Column("version_b", sa.String(128), nullable=True),
        sa.Column("sampling_prob", sa.Float(), nullable=True),
        sa.Column("swapped", sa.Boolean(), nullable=False),
        sa.Column("anony", sa.Boolean(), nullable=False),
        sa.Column("points_a", sa.JSON(), nullable=True),
        sa.Column("points_b", sa.JSON(), nullable=True),
        sa.Column("raw_a", sa.Text(), nullable=True),
        sa.Column("raw_b", sa.Text(), nullable=True),
        sa.Column("parse_ok_a", sa.Boolean(), nullable=False),
        sa.Column("parse_ok_b", sa.Boolean(), nullable=False),
        sa.Column("error_a", sa.Text(), nullable=True),
        sa.Column("error_b", sa.Text(), nullable=True),
        sa.Column("latency_a", sa.Float(), nullable=True),
        sa.Column("latency_b", sa.Float(), nullable=True),
        sa.Column("invalid", sa.Boolean(), nullable=False),
        sa.Column("ref_point", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.UniqueConstraint("content_hash", name="uq_arena_battles_content_hash"),
    )
    for col in ("created", "session_id", "judge_id", "ip_hash", "image_sha256", "category", "model_a", "model_b"):
        op.create_index(f"ix_arena_battles_{col}", "arena_battles", [col])
    op.create_table(
        "arena_votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("battle_id", sa.String(32),
                  sa.ForeignKey("arena_battles.id", name="fk_arena_votes_battle_id_arena_battles"), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), _session_fk("arena_votes"), nullable=True),
        sa.Column("judge_id", sa.String(64), nullable=True),
        sa.Column("winner", sa.String(16), nullable=False),
        sa.Column("dwell_s", sa.Float(), nullable=True),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(128), nullable=True),
        sa.UniqueConstraint("battle_id", name="uq_arena_votes_battle_id"),
    )
    for col in ("created", "session_id", "judge_id"):
        op.create_index(f"ix_arena_votes_{col}", "arena_votes", [col])


def downgrade() -> None:
    op.drop_table("arena_votes")
    op.drop_table("arena_battles")
