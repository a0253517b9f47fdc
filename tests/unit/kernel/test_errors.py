"""Example-based tests of b2bcore.errors: the hierarchy, stable codes and attributes."""

from __future__ import annotations

import pytest

from b2bcore import errors
from b2bcore.errors import (
    B2BCoreError,
    ConcurrencyError,
    ConflictError,
    CurrencyMismatchError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)

ALL_ERRORS: tuple[type[B2BCoreError], ...] = (
    B2BCoreError,
    ConcurrencyError,
    ConflictError,
    CurrencyMismatchError,
    DuplicateError,
    InvalidTransitionError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    ValidationError,
)

#: The codes applications map to statuses; changing one is a breaking change.
STABLE_CODES = {
    B2BCoreError: "b2bcore",
    ValidationError: "validation",
    NotFoundError: "not_found",
    ConflictError: "conflict",
    DuplicateError: "conflict.duplicate",
    ConcurrencyError: "conflict.concurrency",
    PermissionDeniedError: "permission_denied",
    InvalidTransitionError: "invalid_transition",
    CurrencyMismatchError: "money.currency_mismatch",
    StorageError: "storage",
}


def test_public_surface_lists_every_error_sorted() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    assert {getattr(errors, name) for name in errors.__all__} == set(ALL_ERRORS)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_is_a_b2bcore_error_and_an_exception(cls: type[B2BCoreError]) -> None:
    assert issubclass(cls, B2BCoreError)
    assert issubclass(cls, Exception)


def test_codes_are_stable_and_distinct() -> None:
    assert {cls: cls.code for cls in ALL_ERRORS} == STABLE_CODES
    codes = [cls.code for cls in ALL_ERRORS]
    assert len(set(codes)) == len(codes)


def test_code_is_available_on_instances() -> None:
    assert NotFoundError("order", "o-1").code == "not_found"
    assert ConcurrencyError("order", "o-1").code == "conflict.concurrency"


def test_root_error_keeps_message() -> None:
    e = B2BCoreError("something broke")
    assert e.message == "something broke"
    assert str(e) == "something broke"
    assert e.args == ("something broke",)


def test_standard_families_subclass_the_builtin_they_resemble() -> None:
    assert issubclass(ValidationError, ValueError)
    assert issubclass(NotFoundError, LookupError)
    assert issubclass(DuplicateError, ConflictError)
    assert issubclass(ConcurrencyError, ConflictError)
    assert issubclass(CurrencyMismatchError, TypeError)
    assert not issubclass(DuplicateError, ConcurrencyError)
    assert not issubclass(ConcurrencyError, DuplicateError)
    assert not issubclass(PermissionDeniedError, ConflictError)
    assert not issubclass(NotFoundError, ValueError)


def test_validation_error_is_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        raise ValidationError("must be positive", path="lines[2].quantity", value=-1)


def test_validation_error_carries_path_value_and_reason() -> None:
    e = ValidationError("must be positive", path="lines[2].quantity", value=-1)
    assert e.path == "lines[2].quantity"
    assert e.value == -1
    assert e.reason == "must be positive"
    assert str(e) == "lines[2].quantity: must be positive"


def test_validation_error_without_path_has_plain_message() -> None:
    e = ValidationError("bad input")
    assert e.path == ""
    assert e.value is None
    assert str(e) == "bad input"


def test_not_found_carries_kind_and_key() -> None:
    e = NotFoundError("company", "co_42")
    assert (e.kind, e.key) == ("company", "co_42")
    assert str(e) == "company 'co_42' does not exist"
    with pytest.raises(LookupError):
        raise e


def test_not_found_accepts_a_custom_message() -> None:
    e = NotFoundError("price", ("sku-1", "EUR"), "no price for sku-1 in EUR")
    assert e.key == ("sku-1", "EUR")
    assert str(e) == "no price for sku-1 in EUR"


def test_duplicate_carries_kind_and_key() -> None:
    e = DuplicateError("user", "ana@acme.example")
    assert (e.kind, e.key) == ("user", "ana@acme.example")
    assert str(e) == "user 'ana@acme.example' already exists"
    with pytest.raises(ConflictError):
        raise e


def test_concurrency_error_carries_both_versions() -> None:
    e = ConcurrencyError("order", "o-1", expected_version=3, actual_version=5)
    assert (e.kind, e.key) == ("order", "o-1")
    assert e.expected_version == 3
    assert e.actual_version == 5
    assert "version 3" in str(e)
    assert "version 5" in str(e)
    with pytest.raises(ConflictError):
        raise e


def test_concurrency_error_versions_default_to_none() -> None:
    e = ConcurrencyError("order", "o-1", message="stale")
    assert e.expected_version is None
    assert e.actual_version is None
    assert str(e) == "stale"


def test_invalid_transition_carries_states() -> None:
    e = InvalidTransitionError("claim", "c-9", "closed", "in_review")
    assert (e.kind, e.key) == ("claim", "c-9")
    assert (e.from_state, e.to_state) == ("closed", "in_review")
    assert str(e) == "claim 'c-9' cannot go from 'closed' to 'in_review'"


def test_currency_mismatch_carries_both_currencies() -> None:
    e = CurrencyMismatchError("EUR", "USD", "add")
    assert (e.left, e.right, e.operation) == ("EUR", "USD", "add")
    assert str(e).startswith("cannot add EUR with USD")
    assert CurrencyMismatchError("EUR", "USD").operation == "combine"


def test_permission_denied_carries_permission_and_actor() -> None:
    e = PermissionDeniedError("may not approve", permission="order.approve", actor="u-1")
    assert (e.permission, e.actor) == ("order.approve", "u-1")
    assert str(e) == "may not approve"
    assert PermissionDeniedError("no").permission == ""


def test_errors_chain_the_driver_error() -> None:
    driver = RuntimeError("UNIQUE constraint failed")
    with pytest.raises(DuplicateError) as info:
        try:
            raise driver
        except RuntimeError as e:
            raise DuplicateError("order", "o-1") from e
    assert info.value.__cause__ is driver
