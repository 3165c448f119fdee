"""What every outside party can do wrong: not answer in time, or answer with an error.

A `ProviderUnavailable` never counts against the user: the attempt stays retryable (issue 5).
"""

from __future__ import annotations


class ProviderUnavailable(Exception):
    """The provider timed out or failed; nothing was decided."""
