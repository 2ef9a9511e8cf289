"""export jobs know their contest; units uploads are staged like bank uploads

An export job's contest was only inside its JSON parameters, so the exports page parsed the latest
jobs of every contest to find its own: export_jobs.contest_id (indexed) is filled from those
parameters for existing jobs. A units file checked but not yet saved is kept in bank_uploads, as a
bank file is, with the contest and the kind of units it is for.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import json

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _contest_of(params: str | None) -> int | None:
    try:
        contest_id = json.loads(params or "").get("contest_id")
    except (ValueError, AttributeError):
        return None
    return contest_id if isinstance(contest_id, int) else None


def upgrade() -> None:
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contest_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_export_jobs_contest_id'), ['contest_id'], unique=False)
        batch_op.create_foreign_key('fk_export_jobs_contest_id_contests', 'contests', ['contest_id'], ['id'],
                                    ondelete='CASCADE')
    with op.batch_alter_table('bank_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contest_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unit_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.create_foreign_key('fk_bank_uploads_contest_id_contests', 'contests', ['contest_id'], ['id'],
                                    ondelete='CASCADE')

    conn = op.get_bind()
    contests = {row[0] for row in conn.execute(sa.text("SELECT id FROM contests"))}
    jobs = sa.table('export_jobs', sa.column('id', sa.Integer()), sa.column('contest_id', sa.Integer()))
    for job_id, params in conn.execute(sa.text("SELECT id, params FROM export_jobs")).all():
        contest_id = _contest_of(params)
        if contest_id in contests:
            conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(contest_id=contest_id))


def downgrade() -> None:
    with op.batch_alter_table('bank_uploads', schema=None) as batch_op:
        batch_op.drop_constraint('fk_bank_uploads_contest_id_contests', type_='foreignkey')
        batch_op.drop_column('unit_kind')
        batch_op.drop_column('contest_id')
    with op.batch_alter_table('export_jobs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_export_jobs_contest_id_contests', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_export_jobs_contest_id'))
        batch_op.drop_column('contest_id')
