"""Oversight: what the agent may do (policy), who approves it (confirmation), and what it must never show (secrets)."""

from .guard import Guard, Verdict
from .policy import Policy
from .secrets import SecretStore

__all__ = ["Guard", "Policy", "SecretStore", "Verdict"]
