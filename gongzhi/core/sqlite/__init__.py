"""Django's SQLite backend with connections kept across requests (see base.DatabaseWrapper)."""
