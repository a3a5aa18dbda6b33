"""vote evidence: the camera still, the passkey assertion and the receipt

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('named_votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_jpeg', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('evidence_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('assertion', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('receipt', sa.String(length=64), nullable=True))
    with op.batch_alter_table('secret_voters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_jpeg', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('evidence_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('secret_voters', schema=None) as batch_op:
        batch_op.drop_column('evidence_sha256')
        batch_op.drop_column('evidence_jpeg')
    with op.batch_alter_table('named_votes', schema=None) as batch_op:
        batch_op.drop_column('receipt')
        batch_op.drop_column('assertion')
        batch_op.drop_column('evidence_sha256')
        batch_op.drop_column('evidence_jpeg')
