"""documents: who uploaded what and when, page count, and each page's size and text

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 09:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults only to fill rows that might already exist; the application always sets these.
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filename', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pages', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('uploaded_at', sa.DateTime(), nullable=False,
                                      server_default='1970-01-01 00:00:00'))
        batch_op.add_column(sa.Column('uploaded_by', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.alter_column('filename', server_default=None)
        batch_op.alter_column('pages', server_default=None)
        batch_op.alter_column('uploaded_at', server_default=None)

    op.create_table('document_pages',
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('width', sa.Float(), nullable=False),
    sa.Column('height', sa.Float(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('document_id', 'page')
    )


def downgrade() -> None:
    op.drop_table('document_pages')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))
        batch_op.drop_column('uploaded_by')
        batch_op.drop_column('uploaded_at')
        batch_op.drop_column('pages')
        batch_op.drop_column('filename')
