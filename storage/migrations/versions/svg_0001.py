"""svg: SVG studio generations, candidates and pairwise votes

Revision ID: svg_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "svg_0001"
down_revision = "0001_foundation"
branch_labels = ("svg",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "svg_generations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("style", sa.String(128), nullable=False),
        sa.Column("style_card", sa.JSON(), nullable=True),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
    )
    op.create_index("ix_svg_generations_created", "svg_generations", ["created"])
    op.create_index("ix_svg_generations_session_id", "svg_generations", ["session_id"])
    op.create_index("ix_svg_generations_engine", "svg_generations", ["engine"])
    op.create_table(
        "svg_candidates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("generation_id", sa.Integer(),
                  sa.ForeignKey("svg_generations.id", name="fk_svg_candidates_generation_id_svg_generations"),
                  nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("svg", sa.Text(), nullable=False),
        sa.Column("svg_sha256", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("concept", sa.String(256), nullable=True),
        sa.Column("source_id", sa.String(256), nullable=True),
        sa.Column("nearest_id", sa.String(256), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("text_score", sa.Float(), nullable=True),
        sa.Column("licence", sa.String(256), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=True),
    )
    op.create_index("ix_svg_candidates_generation_id", "svg_candidates", ["generation_id"])
    op.create_index("ix_svg_candidates_svg_sha256", "svg_candidates", ["svg_sha256"])
    op.create_table(
        "svg_votes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("style", sa.String(128), nullable=False),
        sa.Column("model_a", sa.String(64), nullable=False),
        sa.Column("model_b", sa.String(64), nullable=False),
        sa.Column("candidate_a", sa.Integer(),
                  sa.ForeignKey("svg_candidates.id", name="fk_svg_votes_candidate_a_svg_candidates"), nullable=False),
        sa.Column("candidate_b", sa.Integer(),
                  sa.ForeignKey("svg_candidates.id", name="fk_svg_votes_candidate_b_svg_candidates"), nullable=False),
        sa.Column("winner", sa.String(16), nullable=False),
    )
    op.create_index("ix_svg_votes_created", "svg_votes", ["created"])
    op.create_index("ix_svg_votes_session_id", "svg_votes", ["session_id"])


def downgrade() -> None:
    op.drop_table("svg_votes")
    op.drop_table("svg_candidates")
    op.drop_table("svg_generations")
