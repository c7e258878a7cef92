"""The local store: SQLite (WAL) through sqlite-utils. Every SQL statement of the project lives here."""
