from blueprints.home.routes import bp  # noqa: F401
