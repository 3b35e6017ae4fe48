"""Background analysis jobs (Huey): queue factory and the analysis task."""
