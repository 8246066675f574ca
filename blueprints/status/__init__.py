from blueprints.status.routes import bp  # noqa: F401
