"""Sealed boxes (密封): data nobody can read before an opening time, not even whoever holds
the database, the files and the deployment's keys. See ``service`` for the design."""
