"""anomaly inspector: inspections, results, prompt pools, corrections

Revision ID: anomaly_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "anomaly_0001"
down_revision = "0001_foundation"
branch_labels = ("anomaly",)
depends_on = None


def _session_fk(table: str):
    return sa.ForeignKey("sessions.id", name=f"fk_{table}_session_id_sessions")


def upgrade() -> None:
    op.create_table(
        "anomaly_inspections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), _session_fk("anomaly_inspections"), nullable=True),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("tiled", sa.Boolean(), nullable=False),
        sa.Column("retrieval_k", sa.Integer(), nullable=True),
        sa.Column("image_threshold", sa.Float(), nullable=False),
        sa.Column("pixel_threshold", sa.Float(), nullable=False),
        sa.Column("prompt_shas", sa.JSON(), nullable=False),
        sa.Column("n_queries", sa.Integer(), nullable=False),
        sa.Column("ms_total", sa.Float(), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=True),
    )
    op.create_index("ix_anomaly_inspections_created", "anomaly_inspections", ["created"])
    op.create_index("ix_anomaly_inspections_session_id", "anomaly_inspections", ["session_id"])
    op.create_table(
        "anomaly_results",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("inspection_id", sa.Integer(),
                  sa.ForeignKey("anomaly_inspections.id", name="fk_anomaly_results_inspection_id_anomaly_inspections"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(256), nullable=False),
        sa.Column("query_sha", sa.String(64), nullable=False),
        sa.Column("prompt_sha", sa.String(64), nullable=True),
        sa.Column("prompt_similarity", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("ms", sa.Float(), nullable=True),
        sa.Column("regions", sa.JSON(), nullable=True),
    )
    op.create_index("ix_anomaly_results_inspection_id", "anomaly_results", ["inspection_id"])
    op.create_index("ix_anomaly_results_query_sha", "anomaly_results", ["query_sha"])
    op.create_table(
        "anomaly_prompt_pools",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), _session_fk("anomaly_prompt_pools"), nullable=True),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prompt_shas", sa.JSON(), nullable=False),
    )
    op.create_index("ix_anomaly_prompt_pools_session_id", "anomaly_prompt_pools", ["session_id"])
    op.create_index("ix_anomaly_prompt_pools_product", "anomaly_prompt_pools", ["product"])
    op.create_index("ix_anomaly_prompt_pools_name", "anomaly_prompt_pools", ["name"])
    op.create_table(
        "anomaly_corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), _session_fk("anomaly_corrections"), nullable=True),
        sa.Column("inspection_id", sa.Integer(),
                  sa.ForeignKey("anomaly_inspections.id",
                                name="fk_anomaly_corrections_inspection_id_anomaly_inspections"), nullable=True),
        sa.Column("product", sa.String(128), nullable=False),
        sa.Column("defect_type", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(256), nullable=False),
        sa.Column("query_sha", sa.String(64), nullable=False),
        sa.Column("mask_sha", sa.String(64), nullable=False),
        sa.Column("mask_pixels", sa.Integer(), nullable=False),
    )
    op.create_index("ix_anomaly_corrections_created", "anomaly_corrections", ["created"])
    op.create_index("ix_anomaly_corrections_session_id", "anomaly_corrections", ["session_id"])
    op.create_index("ix_anomaly_corrections_inspection_id", "anomaly_corrections", ["inspection_id"])
    op.create_index("ix_anomaly_corrections_product", "anomaly_corrections", ["product"])


def downgrade() -> None:
    op.drop_table("anomaly_corrections")
    op.drop_table("anomaly_prompt_pools")
    op.drop_table("anomaly_results")
    op.drop_table("anomaly_inspections")
