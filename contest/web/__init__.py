"""HTTP controllers: parse input, call the domain, pick a template."""

from litestar.di import NamedDependency

from contest.db import Database

DB = NamedDependency[Database]
"""The process's database, injected by name into handlers that declare `db: DB`."""
