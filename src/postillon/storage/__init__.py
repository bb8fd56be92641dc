"""Storage: the Store protocol, SQLite (default) and PostgreSQL backends, migrations."""
