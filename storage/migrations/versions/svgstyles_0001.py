"""svg styles: few-shot style tokens for the learned SVG generator

Revision ID: svgstyles_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "svgstyles_0001"
down_revision = "0001_foundation"
branch_labels = ("svgstyles",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "svg_styles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("model_sha", sa.String(64), nullable=False),
        sa.Column("base_style", sa.String(128), nullable=False),
        sa.Column("token", sa.JSON(), nullable=False),
        sa.Column("card", sa.JSON(), nullable=True),
        sa.Column("n_exemplars", sa.Integer(), nullable=False),
        sa.Column("exemplar_sha", sa.JSON(), nullable=True),
        sa.Column("train_s", sa.Float(), nullable=True),
        sa.Column("train_info", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_svg_styles_name", "svg_styles", ["name"])
    op.create_index("ix_svg_styles_session_id", "svg_styles", ["session_id"])
    op.create_index("ix_svg_styles_model_sha", "svg_styles", ["model_sha"])


def downgrade() -> None:
    op.drop_table("svg_styles")
