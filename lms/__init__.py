"""lms: train peer supporters and prove they are ready before they work with clients."""

from lms.app import create_app
from lms.extension import LMS

__all__ = ["LMS", "create_app"]
__version__ = "0.1.0"
