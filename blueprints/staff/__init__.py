from blueprints.staff import reasons  # noqa: F401  (its views on bp)
from blueprints.staff.routes import bp  # noqa: F401
