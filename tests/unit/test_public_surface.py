"""The public surface is pinned: a change to any ``__all__`` must change this file.

Each public module (no underscore in its path) has a sorted ``__all__`` whose names
all exist, and the names DESIGN.md requires of the foundation are there.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import b2bcore

PUBLIC: dict[str, list[str]] = {
    "b2bcore": [
        "__version__",
    ],
    "b2bcore.accounts": [
        "Access",
        "AccessDecision",
        "Actor",
        "Agent",
        "AgentRepository",
        "AssistedSession",
        "AssistedSessionEnded",
        "AssistedSessionRepository",
        "AssistedSessionStarted",
        "BusinessUnit",
        "BusinessUnitAdded",
        "BusinessUnitMoved",
        "BusinessUnitRepository",
        "Company",
        "CompanyCreated",
        "CompanyRepository",
        "CompanyUser",
        "GrantFinding",
        "PREDEFINED_ROLES",
        "Permission",
        "PermissionExplanation",
        "Resource",
        "Role",
        "RoleGrant",
        "RoleGranted",
        "RolePermission",
        "RoleRepository",
        "RoleRevoked",
        "RoleSaved",
        "SoDRule",
        "SoDRuleAdded",
        "UserInvited",
        "UserRepository",
        "UserStatus",
        "UserStatusChanged",
        "ViewScope",
        "ancestors",
        "authorize",
        "check_membership",
        "check_tree",
        "descendants",
        "explain_permission",
        "predefined_roles",
    ],
    "b2bcore.accounts.model": [
        "Actor",
        "Agent",
        "AssistedSession",
        "AssistedSessionEnded",
        "AssistedSessionStarted",
        "BusinessUnit",
        "BusinessUnitAdded",
        "BusinessUnitMoved",
        "Company",
        "CompanyCreated",
        "CompanyUser",
        "PREDEFINED_ROLES",
        "Permission",
        "Role",
        "RoleGrant",
        "RoleGranted",
        "RolePermission",
        "RoleRevoked",
        "RoleSaved",
        "SCOPE_RANK",
        "SoDRule",
        "SoDRuleAdded",
        "UserInvited",
        "UserStatus",
        "UserStatusChanged",
        "ViewScope",
        "predefined_roles",
    ],
    "b2bcore.accounts.ports": [
        "AgentRepository",
        "AssistedSessionRepository",
        "BusinessUnitRepository",
        "CompanyRepository",
        "RoleRepository",
        "UserRepository",
    ],
    "b2bcore.accounts.rules": [
        "Access",
        "AccessDecision",
        "GrantFinding",
        "PermissionExplanation",
        "Resource",
        "ancestors",
        "authorize",
        "check_membership",
        "check_tree",
        "descendants",
        "explain_permission",
    ],
    "b2bcore.accounts.service": [
        "AccountsService",
        "MAX_ASSISTED_SESSION",
        "PLATFORM_AUDIT",
    ],
    "b2bcore.audit": [
        "AuditEntry",
        "Outcome",
    ],
    "b2bcore.cli": [
        "main",
    ],
    "b2bcore.clock": [
        "Clock",
        "FixedClock",
        "SystemClock",
        "require_aware",
        "to_utc",
    ],
    "b2bcore.errors": [
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
    ],
    "b2bcore.events": [
        "Aggregate",
        "DomainEvent",
        "OutboxRecord",
        "OutboxStatus",
        "event_class",
        "register_event",
        "registered_events",
    ],
    "b2bcore.ids": [
        "AgentId",
        "AssetId",
        "AssistedSessionId",
        "BookingId",
        "BusinessUnitId",
        "CartId",
        "CategoryId",
        "ClaimId",
        "CompanyId",
        "DocumentId",
        "EventId",
        "FlowId",
        "InvoiceId",
        "OrderId",
        "PolicyId",
        "PriceListId",
        "ProductId",
        "QuoteId",
        "ResourceId",
        "RoleId",
        "ServiceTypeId",
        "ShipmentId",
        "Sku",
        "UserId",
        "as_id",
        "as_ids",
        "check_id",
        "new_id",
    ],
    "b2bcore.l10n": [
        "SUPPORTED_LOCALES",
        "format_date",
        "format_datetime",
        "format_decimal",
        "format_money",
        "get_locale",
        "get_zone",
    ],
    "b2bcore.money": [
        "CALCULATION_CONTEXT",
        "Money",
        "RoundingMode",
        "RoundingPolicy",
        "RoundingStage",
        "allocate",
        "is_currency",
        "minor_units",
        "to_decimal",
    ],
    "b2bcore.paging": [
        "DEFAULT_LIMIT",
        "MAX_LIMIT",
        "Page",
        "check_limit",
        "decode_cursor",
        "encode_cursor",
        "iterate",
    ],
    "b2bcore.portal": [
        "Portal",
    ],
    "b2bcore.pricing": [
        "AppliedDiscount",
        "BaseKind",
        "Candidate",
        "CartDiscount",
        "CartLineInput",
        "CartPrice",
        "ChangeKind",
        "DiscountKind",
        "DiscountSet",
        "Formula",
        "FormulaStep",
        "LineDiscount",
        "NoPriceError",
        "PriceChange",
        "PriceContext",
        "PriceExplanation",
        "PriceIndex",
        "PriceItem",
        "PriceList",
        "PriceListRepository",
        "PriceListSaved",
        "PricePolicy",
        "PriceQuote",
        "PriceRule",
        "PriceScope",
        "PriceTier",
        "PricedLine",
        "QuantityRule",
        "QuantityRuleError",
        "RoundingStep",
        "RuleTarget",
        "SkippedDiscount",
        "StackingMode",
        "TargetKind",
        "TierBasis",
        "check_price_lists",
        "check_quantity",
        "price_cart",
        "resolve_price",
        "simulate_change",
    ],
    "b2bcore.pricing.cart": [
        "AppliedDiscount",
        "CartDiscount",
        "CartLineInput",
        "CartPrice",
        "DiscountKind",
        "DiscountSet",
        "LineDiscount",
        "PricedLine",
        "SkippedDiscount",
        "StackingMode",
        "price_cart",
    ],
    "b2bcore.pricing.errors": [
        "Explained",
        "NoPriceError",
        "QuantityRuleError",
    ],
    "b2bcore.pricing.model": [
        "BaseKind",
        "Formula",
        "PriceContext",
        "PriceItem",
        "PriceList",
        "PriceListSaved",
        "PricePolicy",
        "PriceRule",
        "PriceScope",
        "PriceTier",
        "QuantityRule",
        "RoundingStep",
        "RuleTarget",
        "TargetKind",
        "TierBasis",
    ],
    "b2bcore.pricing.ports": [
        "PriceListRepository",
    ],
    "b2bcore.pricing.resolve": [
        "Candidate",
        "FormulaStep",
        "PriceExplanation",
        "PriceIndex",
        "PriceQuote",
        "check_price_lists",
        "check_quantity",
        "resolve_price",
    ],
    "b2bcore.pricing.service": [
        "PricingService",
        "for_buyer",
    ],
    "b2bcore.pricing.simulate": [
        "ChangeKind",
        "PriceChange",
        "simulate_change",
    ],
    "b2bcore.serialization": [
        "converter",
        "dumps",
        "event_from_record",
        "event_to_record",
        "loads",
        "structure",
        "unstructure",
    ],
    "b2bcore.storage": [
        "AuditLog",
        "DispatchReport",
        "Handler",
        "IdempotencyStore",
        "Outbox",
        "Store",
        "UnitOfWork",
        "dispatch",
    ],
    "b2bcore.storage.dispatch": [
        "DispatchReport",
        "Handler",
        "dispatch",
    ],
    "b2bcore.storage.memory": [
        "MemoryStore",
        "MemoryUnitOfWork",
    ],
    "b2bcore.storage.ports": [
        "AuditLog",
        "IdempotencyStore",
        "Outbox",
        "Store",
        "UnitOfWork",
    ],
    "b2bcore.storage.sqlite": [
        "SQLiteStore",
        "SQLiteUnitOfWork",
    ],
    "b2bcore.testing": [],
    "b2bcore.testing.contracts": [
        "StoreContract",
    ],
    "b2bcore.testing.strategies": [
        "DEFAULT_CURRENCIES",
        "DEFAULT_MAX_DATETIME",
        "DEFAULT_MIN_DATETIME",
        "DEFAULT_TIMEZONES",
        "UNROUNDED_EXTRA_PLACES",
        "aware_datetimes",
        "business_unit_trees",
        "companies",
        "company_users",
        "currencies",
        "decimals_for",
        "emails",
        "identifiers",
        "money",
    ],
}


def _public_modules() -> list[str]:
    names = [
        info.name
        for info in pkgutil.walk_packages(b2bcore.__path__, "b2bcore.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    ]
    return sorted(["b2bcore", *names])


def test_every_public_module_is_pinned() -> None:
    assert _public_modules() == sorted(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_all_is_sorted_complete_and_pinned(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it lacks: {missing}"
    assert exported == PUBLIC[name], f"{name}.__all__ changed: update PUBLIC deliberately"


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("b2bcore.money", ["Money", "RoundingPolicy", "allocate"]),
        (
            "b2bcore.errors",
            [
                "B2BCoreError",
                "ConcurrencyError",
                "ConflictError",
                "CurrencyMismatchError",
                "DuplicateError",
                "InvalidTransitionError",
                "NotFoundError",
                "PermissionDeniedError",
                "ValidationError",
            ],
        ),
        ("b2bcore.clock", ["Clock", "FixedClock", "SystemClock"]),
        ("b2bcore.accounts", ["BusinessUnit", "Company", "CompanyUser"]),
        ("b2bcore.storage", ["UnitOfWork"]),
        ("b2bcore.storage.memory", ["MemoryStore"]),
        ("b2bcore.storage.sqlite", ["SQLiteStore"]),
        ("b2bcore.portal", ["Portal"]),
    ],
)
def test_design_names_exist(module: str, names: list[str]) -> None:
    exported = importlib.import_module(module).__all__
    assert [n for n in names if n not in exported] == []


def test_every_public_module_has_a_docstring() -> None:
    undocumented = [n for n in PUBLIC if not (importlib.import_module(n).__doc__ or "").strip()]
    assert undocumented == []
