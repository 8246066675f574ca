from blueprints.staff import team  # noqa: F401  (its routes join bp)
from blueprints.staff.routes import bp  # noqa: F401
