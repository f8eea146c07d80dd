"""Alembic's environment: ``connector.state.migrate`` always hands it an open connection in a transaction."""

from alembic import context

from connector.state.schema import metadata

context.configure(
    connection=context.config.attributes["connection"],
    target_metadata=metadata,
    # SQLite cannot alter most things in place: batch mode copies the table where it must
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
