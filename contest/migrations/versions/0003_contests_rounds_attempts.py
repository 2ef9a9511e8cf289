"""contests rounds attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
from contest.models.base import UTCDateTime


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('organiser_body', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('plan_reference', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('tracks', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('fields', sa.Text(), nullable=False),
    sa.Column('access_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('excluded', sa.Text(), nullable=False),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_table('rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('opens_at', UTCDateTime(), nullable=False),
    sa.Column('closes_at', UTCDateTime(), nullable=False),
    sa.Column('grace_seconds', sa.Integer(), nullable=False),
    sa.Column('prediction_kind', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('prediction_question', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contest_id', 'number', name='uq_rounds_contest_number')
    )
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rounds_contest_id'), ['contest_id'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contest_id', 'kind', 'code', name='uq_units_contest_kind_code')
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('contestants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('cccd', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('gender', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('occupation', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('locality_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('consent_at', UTCDateTime(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['locality_id'], ['units.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contest_id', 'cccd', name='uq_contestants_contest_cccd'),
    sa.UniqueConstraint('contest_id', 'phone', name='uq_contestants_contest_phone')
    )
    with op.batch_alter_table('contestants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contestants_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contestants_locality_id'), ['locality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contestants_unit_id'), ['unit_id'], unique=False)

    op.create_table('round_tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('bank_ids', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('draw', sa.Text(), nullable=False),
    sa.Column('time_limit_seconds', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('shuffle_questions', sa.Boolean(), nullable=False),
    sa.Column('shuffle_options', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'track', name='uq_round_tracks_round_track')
    )
    with op.batch_alter_table('round_tracks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_tracks_round_id'), ['round_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contestant_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('track', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('deadline', UTCDateTime(), nullable=False),
    sa.Column('finished_at', UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('correct_count', sa.Integer(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('prediction', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contestant_id'], ['contestants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contestant_id', 'round_id', 'seq', name='uq_attempts_contestant_round_seq')
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempts_contestant_id'), ['contestant_id'], unique=False)
        batch_op.create_index('ix_attempts_round_track', ['round_id', 'track'], unique=False)

    op.create_table('attempt_questions',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_order', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('chosen', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('answered_at', UTCDateTime(), nullable=True),
    sa.Column('is_correct', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], ),
    sa.PrimaryKeyConstraint('attempt_id', 'position')
    )
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempt_questions_question_id'), ['question_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('attempt_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_questions_question_id'))

    op.drop_table('attempt_questions')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_round_track')
        batch_op.drop_index(batch_op.f('ix_attempts_contestant_id'))

    op.drop_table('attempts')
    with op.batch_alter_table('round_tracks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_tracks_round_id'))

    op.drop_table('round_tracks')
    with op.batch_alter_table('contestants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contestants_unit_id'))
        batch_op.drop_index(batch_op.f('ix_contestants_locality_id'))
        batch_op.drop_index(batch_op.f('ix_contestants_contest_id'))

    op.drop_table('contestants')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))
        batch_op.drop_index(batch_op.f('ix_units_contest_id'))

    op.drop_table('units')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rounds_contest_id'))

    op.drop_table('rounds')
    op.drop_table('contests')
