from blueprints.auth.routes import bp  # noqa: F401
