from blueprints.staff.routes import bp  # noqa: F401
