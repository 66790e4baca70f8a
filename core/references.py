"""Ids that one app's records carry of another app's rows (DESIGN §2: a plain indexed id column,
not a foreign key, so neither app imports the other), checked through one registry.

The app that owns the rows registers a lookup in its AppConfig.ready: `register("referral",
lookup)`, where `lookup(ids, alliances)` returns {id: alliance id} of the rows among `ids` that
belong to one of `alliances`. The app that carries the ids asks `alliances_of("referral", ids,
alliances)` once per batch, so a record naming a row that does not exist, or that belongs to
another alliance, is refused rather than stored.
"""

_lookups = {}


def register(name, lookup):
    _lookups[name] = lookup


def alliances_of(name, ids, alliances):
    """{id: alliance id} of the `name` rows among `ids` in one of `alliances` (one query)."""
    ids, alliances = set(ids), set(alliances)
    if not ids or not alliances:
        return {}
    return _lookups[name](ids, alliances)
