"""Small figure helpers shared by the Python benchmarks."""

import math


def percentile(values, fraction):
    """The value below which `fraction` of the values lie (nearest rank); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def rounded(value, digits=2):
    """`value` rounded, None kept."""
    return None if value is None else round(value, digits)
