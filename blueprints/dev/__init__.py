from blueprints.dev.routes import bp  # noqa: F401
