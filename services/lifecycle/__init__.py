"""The account's lifecycle: a copy of its data (export.py) and its cancellation (cancellation.py, CAN-1..5)."""
