"""The web service: a FastAPI app (JSON API + server-rendered pages) around
``fakelens.analyze``, with jobs in a Huey queue. Start it with ``fakelens serve``."""
