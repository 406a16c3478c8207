"""`make run`: the embedded setup on one machine, with debugging on."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
