"""bench: Point-Bench annotations and per-model results

Revision ID: bench_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "bench_0001"
down_revision = "0001_foundation"
branch_labels = ("bench",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bench_annotations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("annotator", sa.String(128), nullable=True),
        sa.Column("source_battle_id", sa.String(64), nullable=True),
        sa.Column("image_sha256", sa.String(64),
                  sa.ForeignKey("images.sha256", name="fk_bench_annotations_image_sha256_images"), nullable=False),
        sa.Column("user_input", sa.Text(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("ref_point", sa.JSON(), nullable=True),
        sa.Column("mask_png", sa.LargeBinary(), nullable=False),
        sa.Column("mask_pixels", sa.Integer(), nullable=False),
        sa.Column("models_correct", sa.Integer(), nullable=True),
        sa.Column("models_checked", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
    )
    for col in ("created", "session_id", "source_battle_id", "image_sha256", "category", "status"):
        op.create_index(f"ix_bench_annotations_{col}", "bench_annotations", [col])
    op.create_table(
        "bench_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("bench", sa.String(128), nullable=False),
        sa.Column("bench_fingerprint", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("average", sa.Float(), nullable=False),
        sa.Column("per_category", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
    )
    for col in ("created", "model", "bench"):
        op.create_index(f"ix_bench_results_{col}", "bench_results", [col])


def downgrade() -> None:
    op.drop_table("bench_results")
    op.drop_table("bench_annotations")
