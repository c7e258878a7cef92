"""The embedded HTTP API (FastAPI), mounted by station.net.server."""
