"""All ORM tables. Feature issues add one module each and import it here."""
from .base import Base, utcnow  # noqa: F401
from .core import EventRow, ImageRow, SessionRow  # noqa: F401
