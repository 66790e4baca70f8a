"""Timing figures the benchmarks print."""

import statistics


def median_p95_ms(samples):
    """(median, p95) in milliseconds of timings in seconds."""
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000
