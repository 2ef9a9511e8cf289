"""Alembic environment: runs migrations against the URL given by `contest migrate`."""

from alembic import context

from contest.db import make_engine
from contest.models import metadata

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            user_module_prefix="",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
