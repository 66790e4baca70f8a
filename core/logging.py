"""Logging filter that keeps resident ID numbers out of every log line (brief §5)."""

import logging
import re

# An 18-character resident ID (GB 11643): 17 digits and a digit or X, not inside a longer number.
RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_resident_ids(text):
    """Replace each resident ID in `text` by its first 6 and last 4 characters."""
    return RESIDENT_ID.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)


class MaskResidentIdFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        masked = mask_resident_ids(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
