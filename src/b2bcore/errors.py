"""The error hierarchy of b2bcore.

Every error the public API raises on purpose is a :class:`B2BCoreError`. Each class
has a stable, dotted :attr:`~B2BCoreError.code` that applications can map to HTTP
statuses or messages without parsing text, and carries the offending values as
attributes (the babel way) so callers never have to scrape a message.

>>> from b2bcore.errors import NotFoundError
>>> try:
...     raise NotFoundError("company", "co_42")
... except NotFoundError as e:
...     (e.code, e.kind, e.key, str(e))
('not_found', 'company', 'co_42', "company 'co_42' does not exist")

The families:

* :class:`ValidationError` — input that can never be right (bad field, naive datetime).
* :class:`NotFoundError` — an id that names nothing (in the caller's tenant).
* :class:`ConflictError` — the request clashes with the current state:
  :class:`DuplicateError` (the key exists) and :class:`ConcurrencyError` (a stale version).
* :class:`PermissionDeniedError` — the actor may not do this.
* :class:`InvalidTransitionError` — a lifecycle move that the state machine forbids.
* :class:`CurrencyMismatchError` — arithmetic or comparison across currencies.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = [
    "B2BCoreError",
    "ConcurrencyError",
    "ConflictError",
    "CurrencyMismatchError",
    "DuplicateError",
    "InvalidTransitionError",
    "NotFoundError",
    "PermissionDeniedError",
    "StorageError",
    "ValidationError",
]


class B2BCoreError(Exception):
    """Root of every error b2bcore raises on purpose.

    ``code`` is stable across releases; messages may be reworded.
    """

    code: str = "b2bcore"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(B2BCoreError, ValueError):
    """Input that is wrong in itself, whatever the stored state.

    ``path`` names where the bad value sits (``"lines[2].quantity"``, ``"email"``),
    ``value`` is the offending value. Subclasses :class:`ValueError` so generic
    callers that catch ``ValueError`` keep working.
    """

    code = "validation"

    def __init__(self, message: str, *, path: str = "", value: object = None) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.reason = message
        self.path = path
        self.value = value


class NotFoundError(B2BCoreError, LookupError):
    """Nothing with this key exists (or it belongs to another tenant)."""

    code = "not_found"

    def __init__(self, kind: str, key: Hashable, message: str | None = None) -> None:
        super().__init__(message or f"{kind} {key!r} does not exist")
        self.kind = kind
        self.key = key


class ConflictError(B2BCoreError):
    """The request is well-formed but clashes with the current state."""

    code = "conflict"


class DuplicateError(ConflictError):
    """Something with this key (or this unique value) already exists."""

    code = "conflict.duplicate"

    def __init__(self, kind: str, key: Hashable, message: str | None = None) -> None:
        super().__init__(message or f"{kind} {key!r} already exists")
        self.kind = kind
        self.key = key


class ConcurrencyError(ConflictError):
    """The aggregate changed since it was read: reload it and try again."""

    code = "conflict.concurrency"

    def __init__(
        self,
        kind: str,
        key: Hashable,
        *,
        expected_version: int | None = None,
        actual_version: int | None = None,
        message: str | None = None,
    ) -> None:
        if message is None:
            message = (
                f"{kind} {key!r} was changed by someone else "
                f"(you read version {expected_version}, it is now at version "
                f"{actual_version}); reload it and retry"
            )
        super().__init__(message)
        self.kind = kind
        self.key = key
        self.expected_version = expected_version
        self.actual_version = actual_version


class PermissionDeniedError(B2BCoreError):
    """The actor is not allowed to do this.

    ``permission`` is what was asked, ``actor`` who asked, ``decision_code`` the
    machine-readable reason (``"over_limit"``, ``"agent_cannot_approve"`` ...; see
    :func:`b2bcore.accounts.explain_permission`); the message says it in words.
    """

    code = "permission_denied"

    def __init__(
        self, message: str, *, permission: str = "", actor: str = "", decision_code: str = ""
    ) -> None:
        super().__init__(message)
        self.permission = permission
        self.actor = actor
        self.decision_code = decision_code


class InvalidTransitionError(B2BCoreError):
    """A lifecycle move the state machine forbids, naming both states."""

    code = "invalid_transition"

    def __init__(self, kind: str, key: Hashable, from_state: str, to_state: str) -> None:
        super().__init__(f"{kind} {key!r} cannot go from {from_state!r} to {to_state!r}")
        self.kind = kind
        self.key = key
        self.from_state = from_state
        self.to_state = to_state


class CurrencyMismatchError(B2BCoreError, TypeError):
    """Two amounts in different currencies were combined or compared."""

    code = "money.currency_mismatch"

    def __init__(self, left: str, right: str, operation: str = "combine") -> None:
        super().__init__(
            f"cannot {operation} {left} with {right}: convert one of them explicitly first"
        )
        self.left = left
        self.right = right
        self.operation = operation


class StorageError(B2BCoreError):
    """The storage backend failed in a way that is not the caller's fault."""

    code = "storage"
