"""ballots, named votes, secret voters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 07:17:40.486113
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ballots',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('meeting_id', sa.String(length=32), nullable=False),
    sa.Column('agenda_item_id', sa.String(length=32), nullable=True),
    sa.Column('motion', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('majority', sa.String(length=30), nullable=False),
    sa.Column('abstain_allowed', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('entitled', sa.JSON(), nullable=False),
    sa.Column('fixed_membership', sa.Integer(), nullable=False),
    sa.Column('chair_id', sa.String(length=32), nullable=True),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('chair_decision', sa.String(length=10), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('named_votes',
    sa.Column('ballot_id', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.Column('choice', sa.String(length=10), nullable=False),
    sa.Column('cast_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], ),
    sa.PrimaryKeyConstraint('ballot_id', 'member_id')
    )
    op.create_table('secret_voters',
    sa.Column('ballot_id', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], ),
    sa.PrimaryKeyConstraint('ballot_id', 'member_id')
    )


def downgrade() -> None:
    op.drop_table('secret_voters')
    op.drop_table('named_votes')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_meeting_id'))

    op.drop_table('ballots')
