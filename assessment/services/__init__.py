"""Writes of the assessment app: the one path for the admin, the pages, the API and the tasks."""

from .definitions import create_definition, load_catalogue, revise_definition

__all__ = ["create_definition", "load_catalogue", "revise_definition"]
