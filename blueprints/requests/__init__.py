from blueprints.requests.routes import bp  # noqa: F401
