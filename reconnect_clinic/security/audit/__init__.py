"""The audit log: written in the transaction of each change, keyed, append-only."""
