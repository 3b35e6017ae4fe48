"""Routers: the JSON API, the auth pages and the other pages."""
