"""Writes of the assessment app: the one path for the admin, the pages, the API and the tasks."""

from .definitions import create_definition, load_catalogue, revise_definition
from .indicators import compute_indicators, publish_month, start_computation
from .warnings import acknowledge_warning

__all__ = [
    "acknowledge_warning",
    "compute_indicators",
    "create_definition",
    "load_catalogue",
    "publish_month",
    "revise_definition",
    "start_computation",
]
