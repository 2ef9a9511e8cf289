"""audit chain: the audit log made append-only and tamper-evident

Each entry gets `seq` (1, 2, 3, ... in the order the entries were written), `prev_hash` and `hash`
(contest.audit.entry_hash); the entries already there are chained in id order. The table loses its foreign
keys (an entry outlives the account and the contest it names; a cascade would be a DELETE) and gets triggers
refusing UPDATE and DELETE on both databases. Locked prize lists get the chain's head at their locking
(`prize_lists.chain_head`; none for the lists locked before).

Downgrading removes the triggers and the chain columns; the foreign keys are not put back (the entries may
name accounts or contests that no longer exist).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

from contest.audit import GENESIS, entry_hash
from contest.models.base import UTCDateTime


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

REFUSAL = "audit_events is append-only: entries cannot be changed or removed"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{REFUSAL} (%)', TG_OP; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]

COLUMNS = ('id', 'at', 'user_id', 'contest_id', 'action', 'detail')


def _chained(bind, table: str) -> list[dict]:
    """Every entry of `table` in id order, with its place in the chain."""
    source = sa.table(table, sa.column('id', sa.Integer()), sa.column('at', UTCDateTime()),
                      sa.column('user_id', sa.Integer()), sa.column('contest_id', sa.Integer()),
                      sa.column('action', sa.String()), sa.column('detail', sa.Text()))
    rows, previous = [], GENESIS
    for seq, row in enumerate(bind.execute(sa.select(source).order_by(source.c.id)), start=1):
        digest = entry_hash(previous, seq, row.at, row.user_id, row.contest_id, row.action, row.detail)
        rows.append({**row._asdict(), 'seq': seq, 'prev_hash': previous, 'hash': digest})
        previous = digest
    return rows


def _audit_table(name: str, *, chained: bool) -> sa.Table:
    """The audit table as it is after this revision (`chained`) or before it, without its foreign keys."""
    chain = [sa.Column('seq', sa.Integer(), nullable=True), sa.Column('prev_hash', sa.String(length=64), nullable=True),
             sa.Column('hash', sa.String(length=64), nullable=True)] if chained else []
    return op.create_table(
        name,
        sa.Column('id', sa.Integer(), nullable=False),
        *chain,
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('contest_id', sa.Integer(), nullable=True),
        sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        *([sa.UniqueConstraint('seq')] if chained else []),
    )


def _replace_table(new: str) -> None:
    """SQLite: put the table `new` in the place of audit_events, with audit_events' indexes."""
    op.drop_index('ix_audit_events_contest_id', table_name='audit_events')
    op.drop_index('ix_audit_events_at', table_name='audit_events')
    op.drop_table('audit_events')
    op.rename_table(new, 'audit_events')
    op.create_index('ix_audit_events_at', 'audit_events', ['at'], unique=False)
    op.create_index('ix_audit_events_contest_id', 'audit_events', ['contest_id'], unique=False)


def upgrade() -> None:
    bind = op.get_bind()
    rows = _chained(bind, 'audit_events')
    if bind.dialect.name == 'sqlite':
        # SQLite cannot drop a foreign key: the table is built again (nothing references it).
        table = _audit_table('audit_events_chained', chained=True)
        if rows:
            op.bulk_insert(table, rows)
        _replace_table('audit_events_chained')
        triggers = SQLITE_TRIGGERS
    else:
        op.drop_constraint('audit_events_contest_id_fkey', 'audit_events', type_='foreignkey')
        op.drop_constraint('audit_events_user_id_fkey', 'audit_events', type_='foreignkey')
        op.add_column('audit_events', sa.Column('seq', sa.Integer(), nullable=True))
        op.add_column('audit_events', sa.Column('prev_hash', sa.String(length=64), nullable=True))
        op.add_column('audit_events', sa.Column('hash', sa.String(length=64), nullable=True))
        op.create_unique_constraint('audit_events_seq_key', 'audit_events', ['seq'])
        target = sa.table('audit_events', sa.column('id', sa.Integer()), sa.column('seq', sa.Integer()),
                          sa.column('prev_hash', sa.String()), sa.column('hash', sa.String()))
        if rows:
            bind.execute(target.update().where(target.c.id == sa.bindparam('row_id'))
                         .values(seq=sa.bindparam('seq'), prev_hash=sa.bindparam('prev_hash'),
                                 hash=sa.bindparam('hash')),
                         [{'row_id': r['id'], 'seq': r['seq'], 'prev_hash': r['prev_hash'], 'hash': r['hash']}
                          for r in rows])
        triggers = POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)
    # Plain ADD COLUMN: a batch copy of prize_lists on SQLite would drop the table and its awards with it.
    op.add_column('prize_lists', sa.Column('chain_head', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_column('prize_lists', 'chain_head')
    if bind.dialect.name == 'sqlite':
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
        _audit_table('audit_events_plain', chained=False)
        columns = ', '.join(COLUMNS)
        op.execute(f"INSERT INTO audit_events_plain ({columns}) SELECT {columns} FROM audit_events")
        _replace_table('audit_events_plain')
    else:
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
        op.drop_constraint('audit_events_seq_key', 'audit_events', type_='unique')
        op.drop_column('audit_events', 'hash')
        op.drop_column('audit_events', 'prev_hash')
        op.drop_column('audit_events', 'seq')
