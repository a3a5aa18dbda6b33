"""the minutes' words: bodies' vocabulary, speeches' sentences (draft, as corrected), every
correction, and their search (SQLite FTS5 trigram table, PostgreSQL pg_trgm index)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vocabulary', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.alter_column('vocabulary', server_default=None)

    op.create_table('speech_texts',
    sa.Column('meeting_id', sa.String(length=32), nullable=False),
    sa.Column('speech_index', sa.Integer(), nullable=False),
    sa.Column('speaker_id', sa.String(length=32), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('drafted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('meeting_id', 'speech_index')
    )
    op.create_table('speech_sentences',
    sa.Column('meeting_id', sa.String(length=32), nullable=False),
    sa.Column('speech_index', sa.Integer(), nullable=False),
    sa.Column('sentence_index', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('draft', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.Column('corrected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('meeting_id', 'speech_index', 'sentence_index')
    )
    op.create_table('sentence_corrections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('meeting_id', sa.String(length=32), nullable=False),
    sa.Column('speech_index', sa.Integer(), nullable=False),
    sa.Column('sentence_index', sa.Integer(), nullable=False),
    sa.Column('old', sa.Text(), nullable=False),
    sa.Column('new', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sentence_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sentence_corrections_meeting_id'), ['meeting_id'], unique=False)

    # Japanese has no spaces between words: search by substrings, through trigrams.
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':  # FTS5's trigram tokenizer: SQLite 3.34 or newer
        op.execute("CREATE VIRTUAL TABLE sentence_search USING fts5("
                   "folded, meeting_id UNINDEXED, speech_index UNINDEXED, sentence_index UNINDEXED, "
                   "tokenize='trigram')")
    elif dialect == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_speech_sentences_folded_trgm ON speech_sentences "
                   "USING gin (folded gin_trgm_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute("DROP TABLE IF EXISTS sentence_search")
    elif dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_speech_sentences_folded_trgm")
    with op.batch_alter_table('sentence_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sentence_corrections_meeting_id'))
    op.drop_table('sentence_corrections')
    op.drop_table('speech_sentences')
    op.drop_table('speech_texts')
    with op.batch_alter_table('bodies', schema=None) as batch_op:
        batch_op.drop_column('vocabulary')
