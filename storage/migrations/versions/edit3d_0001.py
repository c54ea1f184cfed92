"""edit3d: per-session history of 3D photo edits

Revision ID: edit3d_0001
Revises: 0001_foundation
"""
import sqlalchemy as sa
from alembic import op

revision = "edit3d_0001"
down_revision = "0001_foundation"
branch_labels = ("edit3d",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edit3d_edits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("sessions.id", name="fk_edit3d_edits_session_id_sessions"),
                  nullable=True),
        sa.Column("image_sha256", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("selection", sa.JSON(), nullable=True),
        sa.Column("scene", sa.JSON(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("invented_fraction", sa.Float(), nullable=True),
    )
    op.create_index("ix_edit3d_edits_created", "edit3d_edits", ["created"])
    op.create_index("ix_edit3d_edits_session_id", "edit3d_edits", ["session_id"])
    op.create_index("ix_edit3d_edits_image_sha256", "edit3d_edits", ["image_sha256"])


def downgrade() -> None:
    op.drop_table("edit3d_edits")
