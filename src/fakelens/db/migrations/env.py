"""Alembic environment: migrations run on the connection ``upgrade_schema`` hands over
(``config.attributes["connection"]``), inside its transaction.

A new revision after changing ``fakelens.db.tables`` (against a database at head)::

    python -c "from alembic import command; from fakelens.db.engine import alembic_config;
    command.revision(alembic_config('sqlite:////tmp/dev.db'), 'what changed',
                     autogenerate=True)"
"""

from __future__ import annotations

from alembic import context

from fakelens.schema import include_object, metadata

config = context.config
connection = config.attributes.get("connection")


def _run(conn) -> None:
    context.configure(connection=conn, target_metadata=metadata(), compare_type=True,
                      include_object=include_object,
                      render_as_batch=conn.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if connection is None:  # from a URL (creating a revision)
    from fakelens.db.engine import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
else:
    _run(connection)
