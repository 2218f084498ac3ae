"""The HTTP service: ``create_app`` (FastAPI) and the staff page in ``static/``."""
