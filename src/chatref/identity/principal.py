"""The signed-in caller, whatever proved who they are."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """A caller: ``user_id`` owns conversations (Entra's ``oid``; ``local`` in local mode).

    >>> Principal("u1", roles=frozenset({"Chat.User"})).has_role("Chat.User")
    True
    """

    user_id: str
    name: str | None = None
    roles: frozenset[str] = frozenset()
    source: str = "local"  # "local", "token" or "easyauth"

    def has_role(self, role: str | None) -> bool:
        return role is None or role in self.roles


LOCAL_PRINCIPAL = Principal("local", name="local user", source="local")
