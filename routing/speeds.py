"""Rural default speeds (km/h) for roads whose OSM ``maxspeed`` is missing or unreadable.

They are typical free-flow speeds of a minibus on German rural roads, below the legal limits
(100 km/h out of town, 50 km/h in villages) because of bends, junctions and village crossings.
Edges with a numeric ``maxspeed`` keep it. Link roads and rarely tagged types fall back to
:data:`FALLBACK_KMH`.
"""

from __future__ import annotations

import hashlib
import json

RURAL_SPEEDS_KMH: dict[str, float] = {
    "motorway": 120.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 80.0,
    "primary_link": 50.0,
    "secondary": 70.0,
    "secondary_link": 40.0,
    "tertiary": 60.0,
    "tertiary_link": 40.0,
    "unclassified": 45.0,
    "residential": 30.0,
    "living_street": 10.0,
    "road": 40.0,
    "busway": 40.0,
}
FALLBACK_KMH = 40.0


def speeds_fingerprint(speeds: dict[str, float] = RURAL_SPEEDS_KMH, fallback: float = FALLBACK_KMH) -> str:
    """Return a stable hash of a speed table, part of the compiled-graph cache key."""
    blob = json.dumps({"speeds": speeds, "fallback": fallback}, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()
