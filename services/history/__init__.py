"""The account's security history (HIST): events recorded where they happen, read by the owner."""
