from blueprints.staff import (
    reasons,  # noqa: F401  (its views on bp)
    risks,  # noqa: F401 (its routes on bp)
)
from blueprints.staff.routes import bp  # noqa: F401
