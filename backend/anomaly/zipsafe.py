"""Moved to `backend.zipsafe` (shared by every tab); kept so existing imports keep working."""
from backend.zipsafe import *  # noqa: F401,F403
from backend.zipsafe import (IMAGE_SUFFIXES, ZipImages, ZipLimits, ZipSafetyError, check_archive,  # noqa: F401
                             extract_tree, read_images, resolve_inside, safe_member_name)
