"""Persistence of the web service: SQLAlchemy 2 engine and tables."""
