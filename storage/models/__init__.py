"""All ORM tables. Feature issues add one module each and import it here."""
from .base import Base, utcnow  # noqa: F401
from .core import EventRow, ImageRow, SessionRow  # noqa: F401
from .anomaly import AnomalyCorrectionRow, AnomalyInspectionRow, AnomalyPromptPoolRow, AnomalyResultRow  # noqa: F401
from .arena import ArenaBattle, ArenaVote  # noqa: F401
from .bench import BenchAnnotation, BenchResult  # noqa: F401
from .edit3d import Edit3DRow  # noqa: F401
from .svg import SvgCandidate, SvgGeneration, SvgVote  # noqa: F401
from .svg_styles import SvgStyleRow  # noqa: F401
from .trust import VoteExclusion  # noqa: F401
from .limits import LimitCounter  # noqa: F401
