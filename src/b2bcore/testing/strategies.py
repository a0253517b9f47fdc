"""Hypothesis strategies for b2bcore's values and models.

Use them to property-test your own code on top of b2bcore: pricing rules, storage
adapters, serializers, reports. Every strategy produces *valid* objects only (ones
the constructors accept); build invalid inputs yourself when you test rejection.

This module needs `Hypothesis <https://hypothesis.readthedocs.io>`_, which is a
test dependency of b2bcore, not a runtime one (``pip install hypothesis`` or
``pip install b2bcore[test]``).

>>> from hypothesis import given, strategies as st
>>> from b2bcore.money import Money
>>> from b2bcore.testing.strategies import money
>>> @given(st.lists(money("EUR", min_amount=0, max_amount=1000), min_size=1))
... def test_sum_stays_in_currency(amounts: list[Money]) -> None:
...     assert sum(amounts).currency == "EUR"
>>> test_sum_stays_in_currency()

Trees of business units and the users in them combine the same way::

    @given(business_unit_trees(max_size=5).flatmap(
        lambda units: company_users(units[0].company_id, [u.id for u in units])))
    def test_user_belongs_to_tree(user: CompanyUser) -> None: ...

Draw several users with distinct ids and e-mails with
``st.lists(company_users(...), unique_by=(lambda u: u.id, lambda u: u.email))``.

Pricing strategies draw ids from small shared pools (:data:`DEFAULT_PRICE_SKUS`,
:data:`DEFAULT_PRICE_COMPANIES` …) and instants from :data:`DEFAULT_PRICE_WINDOW`,
so lists, items and buyers meet and precedence is exercised (the guide
"Property-test your price lists" walks through them):

>>> from hypothesis import settings
>>> from b2bcore.pricing import NoPriceError, resolve_price
>>> from b2bcore.testing.strategies import price_contexts, price_items, price_lists
>>> @settings(max_examples=20)
... @given(st.lists(price_lists(currency="EUR"), max_size=3, unique_by=lambda p: p.id),
...        price_contexts(), price_items(), st.integers(1, 100))
... def test_prices_are_never_negative(lists, context, item, quantity) -> None:
...     try:
...         quote = resolve_price(context, item, quantity, lists=lists)
...     except NoPriceError:
...         return
...     assert not quote.unit_price.is_negative()
>>> test_prices_are_never_negative()
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Final, Literal

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "b2bcore.testing.strategies needs Hypothesis: pip install hypothesis "
        "(or pip install 'b2bcore[test]')"
    ) from exc

import attrs
from babel.numbers import list_currencies

from b2bcore.accounts.model import BusinessUnit, Company, CompanyUser, UserStatus
from b2bcore.approvals.model import (
    MAX_LEAVES,
    ApprovalPolicy,
    ApprovalRule,
    ApprovalTier,
    Escalation,
    Requirement,
    Subject,
    SubjectLine,
    SubjectRef,
)
from b2bcore.approvals.predicate import (
    And,
    Compare,
    Const,
    FieldRef,
    IsIn,
    Node,
    Not,
    Or,
    Predicate,
)
from b2bcore.assets.model import Asset, AssetStatus, Warranty
from b2bcore.calendar import BusinessCalendar, WorkingHours
from b2bcore.catalog.model import (
    Assortment,
    AttributeMatch,
    AttributeValue,
    Category,
    Incoming,
    Lifecycle,
    Product,
    ProductRelation,
    RelationRule,
    RelationType,
    Selection,
    StockLevel,
)
from b2bcore.catalog.rules import InMemoryCatalog
from b2bcore.claims.model import (
    FINAL_STATUSES,
    ClaimStatus,
    ClaimType,
    Evidence,
    LifecycleStep,
    LineSource,
    Party,
    Priority,
    ResolutionKind,
    SlaTarget,
)
from b2bcore.clock import require_aware
from b2bcore.documents.blobs import DEFAULT_MAX_SIZE
from b2bcore.documents.model import (
    AccessScope,
    Document,
    DocumentKind,
    DocumentLink,
    DocumentVersion,
    LinkKind,
)
from b2bcore.errors import ValidationError
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    OrderId,
    PriceListId,
    ProductId,
    ResourceId,
    ServiceTypeId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.l10n import get_zone
from b2bcore.money import (
    Money,
    RoundingMode,
    RoundingPolicy,
    RoundingStage,
    is_currency,
    minor_units,
    to_decimal,
)
from b2bcore.orders.model import Cart, CartLine, Order, OrderLine, OrderStatus, StatusChange
from b2bcore.pricing.cart import CartDiscount, CartLineInput, DiscountSet, price_cart
from b2bcore.pricing.model import (
    BaseKind,
    Formula,
    PriceContext,
    PriceItem,
    PriceList,
    PriceRule,
    PriceScope,
    PriceTier,
    QuantityRule,
    RoundingStep,
    RuleTarget,
    TierBasis,
)
from b2bcore.scheduling.model import (
    Availability,
    AvailabilityRule,
    DateOverride,
    HolidayCalendar,
    Resource,
    ResourceRequirement,
    ServiceType,
    TimeRange,
)

__all__ = [
    "DEFAULT_APPROVAL_CATEGORIES",
    "DEFAULT_APPROVAL_ROLES",
    "DEFAULT_APPROVAL_SKUS",
    "DEFAULT_APPROVAL_UNITS",
    "DEFAULT_APPROVAL_USERS",
    "DEFAULT_CALENDAR_TIMEZONES",
    "DEFAULT_CATALOG_CATEGORIES",
    "DEFAULT_CATALOG_SKUS",
    "DEFAULT_COST_CENTERS",
    "DEFAULT_CURRENCIES",
    "DEFAULT_LOCATIONS",
    "DEFAULT_MAX_DATETIME",
    "DEFAULT_MIN_DATETIME",
    "DEFAULT_PRICE_BUSINESS_UNITS",
    "DEFAULT_PRICE_CATEGORIES",
    "DEFAULT_PRICE_CHANNELS",
    "DEFAULT_PRICE_COMPANIES",
    "DEFAULT_PRICE_COUNTRIES",
    "DEFAULT_PRICE_CUSTOMER_GROUPS",
    "DEFAULT_PRICE_PRODUCTS",
    "DEFAULT_PRICE_SKUS",
    "DEFAULT_PRICE_WINDOW",
    "DEFAULT_SCHEDULING_SKILLS",
    "DEFAULT_SCHEDULING_TIMEZONES",
    "DEFAULT_TIMEZONES",
    "UNROUNDED_EXTRA_PLACES",
    "approval_policies",
    "approval_subjects",
    "assets",
    "assortments",
    "availabilities",
    "aware_datetimes",
    "business_calendars",
    "business_unit_trees",
    "carts",
    "catalogs",
    "category_trees",
    "claim_types",
    "companies",
    "company_users",
    "currencies",
    "decimals_for",
    "documents",
    "emails",
    "formulas",
    "identifiers",
    "money",
    "orders",
    "predicates",
    "price_contexts",
    "price_items",
    "price_lists",
    "price_rules",
    "price_scopes",
    "price_tiers",
    "product_relations",
    "products",
    "quantity_rules",
    "relation_rules",
    "requirements",
    "rule_targets",
    "selections",
    "service_resources",
    "service_types",
    "shipment_sequences",
    "shopping_carts",
    "stock_levels",
    "warranties",
]

#: The default sample of :func:`currencies`: 0, 2 and 3 minor units, big and small.
DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("EUR", "USD", "JPY", "VND", "CHF", "KWD", "BHD")

#: The default zones of :func:`aware_datetimes`: UTC, DST north and south (Lord Howe
#: shifts by 30 minutes), no DST, and half/quarter-hour and extreme offsets.
DEFAULT_TIMEZONES: Final[tuple[str, ...]] = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Ho_Chi_Minh",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)

#: Default bounds of :func:`aware_datetimes` (instants, inclusive).
DEFAULT_MIN_DATETIME: Final = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_MAX_DATETIME: Final = datetime(2099, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)

#: How many decimals beyond the minor units ``money(rounded=False)`` may have.
UNROUNDED_EXTRA_PLACES: Final = 4

#: Private exact arithmetic: never the thread's global decimal context.
_CTX: Final = decimal.Context(
    prec=200,
    Emax=999_999,
    Emin=-999_999,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.Inexact],
)

_ID_FIRST: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_REST: Final = _ID_FIRST + "._:@/-"
_EMAIL_ATOM: Final = "abcdefghijklmnopqrstuvwxyz0123456789_%+-"
_DOMAIN_LABEL: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_TLD: Final = "abcdefghijklmnopqrstuvwxyz"
_COUNTRIES: Final = ("DE", "US", "VN", "AT", "CH", "FR", "GB", "JP", "KW", "BH", "AU", "BR")


# -- money -------------------------------------------------------------------------------


def currencies(*, codes: Iterable[str] | Literal["all"] | None = None) -> st.SearchStrategy[str]:
    """ISO 4217 codes that :mod:`b2bcore.money` accepts.

    ``codes=None`` samples :data:`DEFAULT_CURRENCIES` (JPY and VND have no minor
    units, EUR, USD and CHF two, KWD and BHD three); ``codes="all"`` samples every
    code CLDR knows (historic ones included); any other iterable samples exactly
    those codes, which must all be valid. Shrinks towards the first code (EUR).

    Raises :class:`~b2bcore.errors.ValidationError` for an unknown or empty list.
    """
    if codes is None:
        chosen: tuple[str, ...] = DEFAULT_CURRENCIES
    elif codes == "all":
        chosen = tuple(sorted(list_currencies()))
    else:
        if isinstance(codes, str):
            raise ValidationError(
                "codes must be a list of currency codes or 'all'", path="codes", value=codes
            )
        chosen = tuple(codes)
        if not chosen:
            raise ValidationError("give at least one currency code", path="codes", value=codes)
        for i, code in enumerate(chosen):
            if not is_currency(code):
                raise ValidationError(
                    f"{code!r} is not an ISO 4217 currency code", path=f"codes[{i}]", value=code
                )
    return st.sampled_from(chosen)


def _bound(value: object, places: int, name: str, *, ceiling: bool) -> int:
    """``value * 10**places`` rounded inwards to a whole number."""
    try:
        d = to_decimal(value, path=name)
    except TypeError as e:
        raise ValidationError(str(e).removeprefix(f"{name}: "), path=name, value=value) from None
    rounding = decimal.ROUND_CEILING if ceiling else decimal.ROUND_FLOOR
    return int(d.scaleb(places, context=_CTX).to_integral_value(rounding=rounding, context=_CTX))


@st.composite
def _scaled_decimals(draw: st.DrawFn, low: int, high: int, places: int) -> Decimal:
    units = draw(st.integers(min_value=low, max_value=high))
    # Vary the exponent where that keeps the value: Decimal("5") as well as "5.00".
    trim = draw(st.integers(min_value=0, max_value=places))
    dropped = 0
    while dropped < trim and units % 10 ** (dropped + 1) == 0:
        dropped += 1
    return Decimal(units // 10**dropped).scaleb(dropped - places, context=_CTX)


def decimals_for(
    currency: str,
    *,
    min_value: Decimal | int | str,
    max_value: Decimal | int | str,
    places: int | None = None,
) -> st.SearchStrategy[Decimal]:
    """Finite Decimals from ``min_value`` to ``max_value`` with at most ``places`` decimals.

    ``places`` defaults to the minor units of ``currency`` (0 for JPY, 2 for EUR, 3
    for KWD); pass more for unit prices or rates. Values keep varied exponents
    (``Decimal("5")`` and ``Decimal("5.00")`` both occur) but never more decimals
    than ``places``. Bounds are inclusive and rounded inwards to ``places``; floats
    are refused, as everywhere in b2bcore.

    Raises :class:`~b2bcore.errors.ValidationError` for an unknown currency,
    negative ``places`` or a range holding no such value.
    """
    digits = minor_units(currency) if places is None else places
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValidationError("places must be a whole number >= 0", path="places", value=places)
    low = _bound(min_value, digits, "min_value", ceiling=True)
    high = _bound(max_value, digits, "max_value", ceiling=False)
    if low > high:
        raise ValidationError(
            f"no value with at most {digits} decimals lies between {min_value} and {max_value}",
            path="max_value",
            value=max_value,
        )
    return _scaled_decimals(low, high, digits)


def money(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    min_amount: Decimal | int | str = Decimal(-1_000_000_000),
    max_amount: Decimal | int | str = Decimal(1_000_000_000),
    rounded: bool = True,
) -> st.SearchStrategy[Money]:
    """:class:`~b2bcore.money.Money` amounts from ``min_amount`` to ``max_amount``.

    ``currency`` is a code, a strategy of codes, or ``None`` for :func:`currencies`.
    With ``rounded=True`` amounts have at most the currency's minor units (what an
    invoice line holds); with ``rounded=False`` up to
    :data:`UNROUNDED_EXTRA_PLACES` more (what unit prices and intermediate results
    hold). The default range is plus or minus one billion; pass ``min_amount=0``
    for prices. Bounds are validated at once; a range that holds no amount for a
    drawn currency (``min_amount="0.1", max_amount="0.9"`` in JPY) raises
    :class:`~b2bcore.errors.ValidationError` when that currency is drawn.
    """
    if currency is None:
        codes: st.SearchStrategy[str] = currencies()
    elif isinstance(currency, str):
        if not is_currency(currency):
            raise ValidationError(
                f"{currency!r} is not an ISO 4217 currency code", path="currency", value=currency
            )
        codes = st.just(currency)
    else:
        codes = currency
    # Validate the bounds eagerly (an empty range for some currency fails when drawn).
    _bound(min_amount, 0, "min_amount", ceiling=True)
    _bound(max_amount, 0, "max_amount", ceiling=False)

    def amounts(code: str) -> st.SearchStrategy[Money]:
        places = minor_units(code) + (0 if rounded else UNROUNDED_EXTRA_PLACES)
        return decimals_for(code, min_value=min_amount, max_value=max_amount, places=places).map(
            lambda amount: Money(amount, code)
        )

    return codes.flatmap(amounts)


# -- time --------------------------------------------------------------------------------


def _local_datetimes(zone: tzinfo, low: datetime, high: datetime) -> st.SearchStrategy[datetime]:
    low_local = low.astimezone(zone).replace(tzinfo=None)
    high_local = high.astimezone(zone).replace(tzinfo=None)
    return st.datetimes(
        min_value=low_local,
        max_value=high_local,
        timezones=st.just(zone),
        allow_imaginary=False,
    ).filter(lambda d: low <= d <= high)


def aware_datetimes(
    *,
    min_value: datetime = DEFAULT_MIN_DATETIME,
    max_value: datetime = DEFAULT_MAX_DATETIME,
    timezones: Sequence[str] = DEFAULT_TIMEZONES,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between two instants, in several IANA zones.

    Each value carries one of ``timezones`` (a :class:`zoneinfo.ZoneInfo`), so
    DST gaps and folds, half-hour DST (Lord Howe) and offsets from -11 to +14
    hours all turn up; wall times that do not exist are never produced. Bounds are
    aware instants (inclusive), 1970 to 2099 by default. Shrinks towards UTC.

    Raises :class:`~b2bcore.errors.ValidationError` for naive or reversed bounds
    and unknown zone names.
    """
    low = require_aware(min_value, path="min_value")
    high = require_aware(max_value, path="max_value")
    if low > high:
        raise ValidationError("min_value is after max_value", path="min_value", value=min_value)
    if isinstance(timezones, str) or not timezones:
        raise ValidationError(
            "timezones must be a non-empty list of IANA zone names",
            path="timezones",
            value=timezones,
        )
    zones: list[tzinfo] = []
    for i, name in enumerate(timezones):
        try:
            zones.append(get_zone(name))
        except ValidationError as e:
            raise ValidationError(e.reason, path=f"timezones[{i}]", value=name) from None
    return st.sampled_from(zones).flatmap(lambda zone: _local_datetimes(zone, low, high))


# -- identifiers and accounts ----------------------------------------------------------


def identifiers(*, max_length: int = 40) -> st.SearchStrategy[str]:
    """Caller-supplied ids that :func:`b2bcore.ids.check_id` accepts.

    A letter or digit, then up to ``max_length - 1`` of letters, digits and
    ``. _ : @ / -`` (``max_length`` from 1 to 128). Wrap the result in the typed id
    you need, e.g. ``identifiers().map(CompanyId)``.
    """
    if isinstance(max_length, bool) or not isinstance(max_length, int):
        raise ValidationError("max_length must be a whole number", path="max_length")
    if not 1 <= max_length <= 128:
        raise ValidationError(
            "max_length must be from 1 to 128", path="max_length", value=max_length
        )
    return st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(_ID_FIRST),
        st.text(alphabet=_ID_REST, max_size=max_length - 1),
    )


def emails() -> st.SearchStrategy[str]:
    """Plausible e-mail addresses, already normalised (lower case, no spaces).

    ``local.part@sub.domain.tld`` from ASCII letters, digits and ``_ % + -``; what
    :class:`~b2bcore.accounts.CompanyUser` stores is exactly what was drawn.
    """
    atom = st.text(alphabet=_EMAIL_ATOM, min_size=1, max_size=12)
    label = st.text(alphabet=_DOMAIN_LABEL, min_size=1, max_size=12)
    local = st.lists(atom, min_size=1, max_size=3).map(".".join)
    domain = st.lists(label, min_size=1, max_size=3).map(".".join)
    tld = st.text(alphabet=_TLD, min_size=2, max_size=6)
    return st.builds(lambda lp, dom, top: f"{lp}@{dom}.{top}", local, domain, tld)


def _names(max_size: int = 40) -> st.SearchStrategy[str]:
    """Display names: non-blank text without control characters or surrogates."""
    return st.text(
        alphabet=st.characters(exclude_categories=("Cc", "Cs", "Co", "Cn")),
        min_size=1,
        max_size=max_size,
    ).filter(lambda s: bool(s.strip()))


def companies() -> st.SearchStrategy[Company]:
    """New (version 0) :class:`~b2bcore.accounts.Company` objects."""
    return st.builds(
        Company,
        id=identifiers().map(CompanyId),
        name=_names(),
        country=st.none() | st.sampled_from(_COUNTRIES),
    )


def _company_id(company_id: str | None) -> st.SearchStrategy[CompanyId]:
    if company_id is None:
        return identifiers().map(CompanyId)
    return st.just(CompanyId(check_id(company_id, path="company_id")))


@st.composite
def _trees(
    draw: st.DrawFn, company: st.SearchStrategy[CompanyId], min_size: int, max_size: int
) -> list[BusinessUnit]:
    company_id = draw(company)
    ids = draw(st.lists(identifiers(), min_size=min_size, max_size=max_size, unique=True))
    units: list[BusinessUnit] = []
    for index, unit_id in enumerate(ids):
        parent = draw(st.none() | st.integers(min_value=0, max_value=index - 1)) if index else None
        units.append(
            BusinessUnit(
                id=BusinessUnitId(unit_id),
                company_id=company_id,
                name=draw(_names()),
                parent_id=None if parent is None else units[parent].id,
                cost_center=draw(st.none() | st.integers(100, 999_999).map(lambda n: f"CC-{n}")),
            )
        )
    return units


def business_unit_trees(
    company_id: str | None = None, *, min_size: int = 1, max_size: int = 8
) -> st.SearchStrategy[list[BusinessUnit]]:
    """Lists of :class:`~b2bcore.accounts.BusinessUnit` forming a valid forest.

    All units belong to ``company_id`` (drawn when ``None``), ids are distinct, and
    every parent comes earlier in the list than its children, so the first unit is
    always a root and the list passes
    :func:`b2bcore.accounts.rules.check_tree`. Shrinks towards flat forests.
    """
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 0:
        raise ValidationError("min_size must be a whole number >= 0", path="min_size")
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < min_size:
        raise ValidationError(
            "max_size must be a whole number >= min_size", path="max_size", value=max_size
        )
    return _trees(_company_id(company_id), min_size, max_size)


def company_users(
    company_id: str, business_unit_ids: Sequence[str]
) -> st.SearchStrategy[CompanyUser]:
    """:class:`~b2bcore.accounts.CompanyUser` objects of one company.

    Each user belongs to a non-empty subset of ``business_unit_ids`` (distinct,
    order as drawn), has an address from :func:`emails` and any
    :class:`~b2bcore.accounts.UserStatus`. Ids and e-mails are varied but not
    unique across draws; use ``st.lists(..., unique_by=(lambda u: u.id, lambda u:
    u.email))`` when you need several distinct users.
    """
    company = CompanyId(check_id(company_id, path="company_id"))
    if isinstance(business_unit_ids, str) or not business_unit_ids:
        raise ValidationError(
            "give at least one business unit id",
            path="business_unit_ids",
            value=business_unit_ids,
        )
    units = tuple(
        BusinessUnitId(check_id(unit_id, path=f"business_unit_ids[{i}]"))
        for i, unit_id in enumerate(business_unit_ids)
    )
    return st.builds(
        CompanyUser,
        id=identifiers().map(UserId),
        company_id=st.just(company),
        email=emails(),
        name=_names(),
        business_unit_ids=st.lists(
            st.sampled_from(units), min_size=1, max_size=len(units), unique=True
        ).map(tuple),
        status=st.sampled_from(UserStatus),
    )


# -- pricing -----------------------------------------------------------------------------

#: Default instants of the pricing strategies: price list and rule windows and the
#: ``at`` of :func:`price_contexts` all fall in ``[start, end]``, so windows and
#: contexts meet often.
DEFAULT_PRICE_WINDOW: Final[tuple[datetime, datetime]] = (
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2027, 1, 1, tzinfo=UTC),
)

# Default id pools of the pricing strategies. Scopes, targets, items and contexts
# drawn with the same pools meet often, which is what makes precedence interesting.

#: Default SKUs of rule targets and items.
DEFAULT_PRICE_SKUS: Final[tuple[str, ...]] = ("SKU-1", "SKU-2", "SKU-3")
#: Default products of rule targets and items.
DEFAULT_PRICE_PRODUCTS: Final[tuple[str, ...]] = ("PUMP", "VALVE")
#: Default categories of rule targets and item category paths.
DEFAULT_PRICE_CATEGORIES: Final[tuple[str, ...]] = ("spares", "pumps", "seals")
#: Default companies of scopes and buyers.
DEFAULT_PRICE_COMPANIES: Final[tuple[str, ...]] = ("acme", "globex")
#: Default business units of scopes and buyers.
DEFAULT_PRICE_BUSINESS_UNITS: Final[tuple[str, ...]] = ("hq", "plant-1")
#: Default customer groups of scopes and buyers.
DEFAULT_PRICE_CUSTOMER_GROUPS: Final[tuple[str, ...]] = ("dealers", "oem")
#: Default sales channels of scopes and buyers.
DEFAULT_PRICE_CHANNELS: Final[tuple[str, ...]] = ("web", "edi")
#: Default countries of scopes and buyers.
DEFAULT_PRICE_COUNTRIES: Final[tuple[str, ...]] = ("DE", "US")

_MULTIPLES: Final = tuple(Decimal(m) for m in ("0.01", "0.05", "0.10", "0.5", "1", "5"))
_ENDINGS: Final = tuple(Decimal(e) for e in ("0.99", "0.95", "0.90", "0.50", "0", "9.99", "95"))
_MAX_PRICE: Final = Decimal(10_000)
#: (increment, half of it) for :func:`quantity_rules`, computed without any context.
_INCREMENTS: Final = tuple(
    (Decimal(i), Decimal(h)) for i, h in (("1", "0.5"), ("5", "2.5"), ("12", "6"), ("0.5", "0.25"))
)


def _pool(values: Sequence[str], name: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    """Validate a pool of ids: a list (not a str) of valid ids, kept in order."""
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValidationError(f"{name} must be a list of ids", path=name, value=values)
    if not values and not allow_empty:
        raise ValidationError(f"give at least one id in {name}", path=name, value=values)
    return tuple(check_id(v, path=f"{name}[{i}]") for i, v in enumerate(values))


def _codes(currency: str | st.SearchStrategy[str] | None) -> st.SearchStrategy[str]:
    if currency is None:
        return currencies()
    if isinstance(currency, str):
        if not is_currency(currency):
            raise ValidationError(
                f"{currency!r} is not an ISO 4217 currency code", path="currency", value=currency
            )
        return st.just(currency)
    return currency


def _instants(datetimes: st.SearchStrategy[datetime] | None) -> st.SearchStrategy[datetime]:
    if datetimes is None:
        low, high = DEFAULT_PRICE_WINDOW
        return aware_datetimes(min_value=low, max_value=high)
    return datetimes


_SCOPE_FIELDS: Final = (
    "companies",
    "business_units",
    "customer_groups",
    "channels",
    "countries",
)


@st.composite
def _scopes(
    draw: st.DrawFn,
    chooser: st.SearchStrategy[list[int]],
    values: tuple[st.SearchStrategy[frozenset[str]], ...],
) -> PriceScope:
    dims = {_SCOPE_FIELDS[i]: draw(values[i]) for i in draw(chooser)}
    return PriceScope(**dims)


def price_scopes(
    *,
    companies: Sequence[str] = DEFAULT_PRICE_COMPANIES,
    business_units: Sequence[str] = DEFAULT_PRICE_BUSINESS_UNITS,
    customer_groups: Sequence[str] = DEFAULT_PRICE_CUSTOMER_GROUPS,
    channels: Sequence[str] = DEFAULT_PRICE_CHANNELS,
    countries: Sequence[str] = DEFAULT_PRICE_COUNTRIES,
) -> st.SearchStrategy[PriceScope]:
    """:class:`~b2bcore.pricing.PriceScope` values over small pools of ids.

    A scope restricts none, one or two of its dimensions (as real price lists do:
    a public list, a company contract, a dealer list for one country), each to one
    or two ids of its pool, so every buyer specificity from unscoped to company
    turns up. A dimension whose pool is empty stays empty. Shrinks towards the
    unscoped list. Use the same pools for :func:`price_contexts` so that scopes and
    buyers meet.
    """
    pools = (
        _pool(companies, "companies"),
        _pool(business_units, "business_units"),
        _pool(customer_groups, "customer_groups"),
        _pool(channels, "channels"),
        _pool(countries, "countries"),
    )
    filled = [i for i, pool in enumerate(pools) if pool]
    chooser: st.SearchStrategy[list[int]] = (
        st.lists(st.sampled_from(filled), max_size=2, unique=True) if filled else st.just([])
    )
    values = tuple(
        st.frozensets(st.sampled_from(pool), min_size=1, max_size=2)
        if pool
        else st.just(frozenset[str]())
        for pool in pools
    )
    return _scopes(chooser, values)


def rule_targets(
    skus: Sequence[str] = DEFAULT_PRICE_SKUS,
    products: Sequence[str] = DEFAULT_PRICE_PRODUCTS,
    categories: Sequence[str] = DEFAULT_PRICE_CATEGORIES,
) -> st.SearchStrategy[RuleTarget]:
    """:class:`~b2bcore.pricing.RuleTarget` values: one SKU, product or category of
    the given pools, or "all". A kind whose pool is empty is never drawn; "all"
    always may be. Shrinks towards "all"."""
    kinds: list[st.SearchStrategy[RuleTarget]] = [st.just(RuleTarget.all())]
    sku_pool = _pool(skus, "skus")
    product_pool = _pool(products, "products")
    category_pool = _pool(categories, "categories")
    if category_pool:
        kinds.append(st.sampled_from(category_pool).map(RuleTarget.category))
    if product_pool:
        kinds.append(st.sampled_from(product_pool).map(RuleTarget.product))
    if sku_pool:
        kinds.append(st.sampled_from(sku_pool).map(RuleTarget.sku))
    return st.one_of(kinds)


@functools.cache
def _rounding_steps() -> st.SearchStrategy[RoundingStep]:
    modes = st.sampled_from(RoundingMode)
    return st.builds(RoundingStep, multiple=st.sampled_from(_MULTIPLES), mode=modes) | st.builds(
        RoundingStep, ending=st.sampled_from(_ENDINGS), mode=modes
    )


@functools.cache
def _percents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return decimals_for("EUR", min_value=low, max_value=high, places=2)


@functools.cache
def _optional_percents(low: int, high: int) -> st.SearchStrategy[Decimal | None]:
    return st.none() | _percents(low, high)


@functools.cache
def _unit_prices(currency: str) -> st.SearchStrategy[Money]:
    return money(currency, min_amount=0, max_amount=_MAX_PRICE, rounded=False)


@functools.cache
def _optional_unit_prices(currency: str) -> st.SearchStrategy[Money | None]:
    return st.none() | _unit_prices(currency)


@functools.cache
def _surcharges(currency: str) -> st.SearchStrategy[Money | None]:
    return st.none() | money(currency, min_amount=-20, max_amount=50, rounded=False)


@functools.lru_cache(maxsize=256)
def _choice(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


@functools.lru_cache(maxsize=256)
def _optional_choice(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    if not values:
        return st.none()
    return st.none() | st.sampled_from(values)


_BASES: Final = st.sampled_from((BaseKind.LIST_PRICE, BaseKind.COST))
_ALL_BASES: Final = st.sampled_from((BaseKind.LIST_PRICE, BaseKind.COST, BaseKind.PRICE_LIST))
_NO_PERCENT: Final = st.just(Decimal(0))
_RATIOS: Final = st.integers(min_value=0, max_value=100)


def _draw_formula(draw: st.DrawFn, currency: str, base_lists: tuple[str, ...]) -> Formula:
    # Helpers named _draw_* take ``draw`` and build no strategies of their own:
    # building strategies inside a draw is what makes nested strategies slow.
    base = draw(_ALL_BASES if base_lists else _BASES)
    base_list_id = draw(_choice(base_lists)) if base is BaseKind.PRICE_LIST else None
    min_margin = draw(_optional_percents(-50, 50))
    max_margin = draw(_optional_percents(-50, 200))
    if min_margin is not None and max_margin is not None and max_margin < min_margin:
        min_margin, max_margin = max_margin, min_margin
    return Formula(
        base=base,
        base_list_id=None if base_list_id is None else PriceListId(base_list_id),
        percent=draw(_NO_PERCENT | _percents(-90, 100)),
        rounding=draw(st.none() | _rounding_steps()),
        surcharge=draw(_surcharges(currency)),
        min_margin=min_margin,
        max_margin=max_margin,
    )


@st.composite
def _formulas(draw: st.DrawFn, currency: str, base_lists: tuple[str, ...]) -> Formula:
    return _draw_formula(draw, currency, base_lists)


def formulas(
    currency: str | st.SearchStrategy[str] | None = None, *, base_lists: Sequence[str] = ()
) -> st.SearchStrategy[Formula]:
    """:class:`~b2bcore.pricing.Formula` values whose surcharge is in ``currency``.

    The base is the list price or the cost, or, when ``base_lists`` names price
    list ids, one of those lists. Percent runs from -90 to +100 (0 often), rounding
    to a multiple (0.01 to 5) or an ending (.99, .95, .90, .50, .00, 9.99, 95) in any mode,
    the surcharge from -20 to +50 (a negative surcharge is a fixed discount), and
    the margin clamp from -50 % to +200 % with min ≤ max. Each step is often
    absent. Shrinks towards the plain list price.
    """
    lists = _pool(base_lists, "base_lists")
    return _codes(currency).flatmap(lambda code: _formulas(code, lists))


@functools.cache
def _tier_quantities(max_size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=1, max_value=50), max_size=max_size, unique=True).map(
        sorted
    )


def _at_most(draw: st.DrawFn, ceiling: Money) -> Money:
    """A price from 0 to ``ceiling`` (a whole percentage of it, floored)."""
    places = minor_units(ceiling.currency) + UNROUNDED_EXTRA_PLACES
    units = int(
        ceiling.amount.scaleb(places, context=_CTX).to_integral_value(
            rounding=decimal.ROUND_FLOOR, context=_CTX
        )
    )
    share = units * draw(_RATIOS) // 100
    return Money(Decimal(share).scaleb(-places, context=_CTX), ceiling.currency)


def _draw_tiers(
    draw: st.DrawFn,
    currency: str,
    base_lists: tuple[str, ...],
    max_size: int,
    falling_from: Money | None,
) -> list[PriceTier]:
    tiers: list[PriceTier] = []
    ceiling = falling_from
    for n in draw(_tier_quantities(max_size)):
        quantity = Decimal(n)
        if ceiling is not None:
            ceiling = _at_most(draw, ceiling)
            tiers.append(PriceTier(min_quantity=quantity, price=ceiling))
        elif draw(st.booleans()):
            tiers.append(PriceTier(min_quantity=quantity, price=draw(_unit_prices(currency))))
        else:
            formula = _draw_formula(draw, currency, base_lists)
            tiers.append(PriceTier(min_quantity=quantity, formula=formula))
    return tiers


@st.composite
def _tiers(
    draw: st.DrawFn,
    currency: str,
    base_lists: tuple[str, ...],
    max_size: int,
    falling_from: Money | None,
) -> list[PriceTier]:
    return _draw_tiers(draw, currency, base_lists, max_size, falling_from)


def price_tiers(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    base_lists: Sequence[str] = (),
    max_size: int = 3,
    falling_from: Money | None = None,
) -> st.SearchStrategy[list[PriceTier]]:
    """Lists of :class:`~b2bcore.pricing.PriceTier` with strictly increasing whole
    minimum quantities from 1 to 50 (what :class:`~b2bcore.pricing.PriceRule`
    accepts), at most ``max_size`` of them.

    Each tier has a fixed unit price in ``currency`` (0 to 10 000) or a
    :func:`formulas` formula. With ``falling_from`` (a :class:`~b2bcore.money.Money`
    in ``currency``, which must then be a code) every tier has a fixed price, the
    first at most ``falling_from`` and each at most the one before: the monotone
    tiers under which a unit price never rises with quantity.
    """
    lists = _pool(base_lists, "base_lists")
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
        raise ValidationError("max_size must be a whole number >= 0", path="max_size")
    if falling_from is not None:
        if not isinstance(falling_from, Money) or falling_from.is_negative():
            raise ValidationError(
                "falling_from must be a non-negative Money", path="falling_from", value=falling_from
            )
        if not isinstance(currency, str) or currency != falling_from.currency:
            raise ValidationError(
                "falling_from must be in the currency of the tiers",
                path="falling_from",
                value=falling_from,
            )
    return _codes(currency).flatmap(lambda code: _tiers(code, lists, max_size, falling_from))


@attrs.frozen
class _RuleSpec:
    """Everything a rule draw needs, with its strategies built once."""

    targets: st.SearchStrategy[RuleTarget]
    base_lists: tuple[str, ...]
    ids: st.SearchStrategy[str]
    instants: st.SearchStrategy[datetime]
    maybe_instants: st.SearchStrategy[datetime | None]
    min_quantities: st.SearchStrategy[Decimal]
    monotone_tiers: bool
    max_tiers: int


def _draw_window(
    draw: st.DrawFn, spec: _RuleSpec, *, open_start: bool
) -> tuple[datetime | None, datetime | None]:
    """A half-open window: a start (None allowed when ``open_start``) before an end
    (None: open)."""
    start = draw(spec.maybe_instants if open_start else spec.instants)
    end = draw(spec.maybe_instants)
    if start is not None and end is not None:
        if start == end:
            end = None
        elif end < start:
            start, end = end, start
    return start, end


def _draw_rule(draw: st.DrawFn, currency: str, spec: _RuleSpec, rule_id: str) -> PriceRule:
    price: Money | None = None
    formula: Formula | None = None
    target = draw(spec.targets)
    if spec.monotone_tiers or draw(st.booleans()):
        price = draw(_unit_prices(currency))
    else:
        formula = _draw_formula(draw, currency, spec.base_lists)
    falling_from = price if spec.monotone_tiers else None
    tiers = _draw_tiers(draw, currency, spec.base_lists, spec.max_tiers, falling_from)
    valid_from, valid_until = (
        _draw_window(draw, spec, open_start=True) if draw(st.booleans()) else (None, None)
    )
    return PriceRule(
        id=rule_id,
        target=target,
        price=price,
        formula=formula,
        tiers=tiers,
        tier_basis=draw(st.sampled_from(TierBasis)),
        valid_from=valid_from,
        valid_until=valid_until,
        min_quantity=draw(spec.min_quantities),
    )


@st.composite
def _rules(draw: st.DrawFn, currency: str, spec: _RuleSpec) -> PriceRule:
    return _draw_rule(draw, currency, spec, draw(spec.ids))


_ONE: Final = st.just(Decimal(1))
_CART_QUANTITIES: Final = st.integers(min_value=1, max_value=60).map(Decimal)
_DEFAULT_MIN_QUANTITIES: Final = _ONE | _ONE | st.integers(min_value=2, max_value=20).map(Decimal)


def _rule_spec(
    *,
    skus: Sequence[str],
    products: Sequence[str],
    categories: Sequence[str],
    base_lists: Sequence[str],
    ids: st.SearchStrategy[str] | None,
    datetimes: st.SearchStrategy[datetime] | None,
    min_quantities: st.SearchStrategy[Decimal] | None,
    monotone_tiers: bool,
    max_tiers: int,
) -> _RuleSpec:
    if isinstance(max_tiers, bool) or not isinstance(max_tiers, int) or max_tiers < 0:
        raise ValidationError("max_tiers must be a whole number >= 0", path="max_tiers")
    instants = _instants(datetimes)
    return _RuleSpec(
        targets=rule_targets(skus, products, categories),
        base_lists=_pool(base_lists, "base_lists"),
        ids=identifiers(max_length=16) if ids is None else ids,
        instants=instants,
        maybe_instants=st.none() | instants,
        min_quantities=_DEFAULT_MIN_QUANTITIES if min_quantities is None else min_quantities,
        monotone_tiers=monotone_tiers,
        max_tiers=max_tiers,
    )


def price_rules(
    currency: str | st.SearchStrategy[str] | None = None,
    *,
    skus: Sequence[str] = DEFAULT_PRICE_SKUS,
    products: Sequence[str] = DEFAULT_PRICE_PRODUCTS,
    categories: Sequence[str] = DEFAULT_PRICE_CATEGORIES,
    base_lists: Sequence[str] = (),
    ids: st.SearchStrategy[str] | None = None,
    datetimes: st.SearchStrategy[datetime] | None = None,
    min_quantities: st.SearchStrategy[Decimal] | None = None,
    monotone_tiers: bool = False,
    max_tiers: int = 3,
) -> st.SearchStrategy[PriceRule]:
    """:class:`~b2bcore.pricing.PriceRule` values whose money is all in ``currency``.

    The target comes from :func:`rule_targets` over the pools; the price is a fixed
    unit price (0 to 10 000) or a :func:`formulas` formula (deriving from
    ``base_lists`` when given); up to ``max_tiers`` tiers as from
    :func:`price_tiers`; any tier basis; half the time no window of its own,
    otherwise a half-open one from ``datetimes`` (default: :func:`aware_datetimes`
    within :data:`DEFAULT_PRICE_WINDOW`), either end possibly open; the minimum
    quantity from ``min_quantities`` (default: mostly 1, sometimes 2 to 20). Ids
    come from ``ids`` (default :func:`identifiers`). With ``monotone_tiers=True``
    the rule has a fixed price and falling fixed-price tiers (see ``falling_from``
    of :func:`price_tiers`).
    """
    spec = _rule_spec(
        skus=skus,
        products=products,
        categories=categories,
        base_lists=base_lists,
        ids=ids,
        datetimes=datetimes,
        min_quantities=min_quantities,
        monotone_tiers=monotone_tiers,
        max_tiers=max_tiers,
    )
    return _codes(currency).flatmap(lambda code: _rules(code, spec))


_PRIORITIES: Final = st.integers(min_value=0, max_value=2)


@st.composite
def _price_lists(
    draw: st.DrawFn,
    *,
    codes: st.SearchStrategy[str],
    ids: st.SearchStrategy[str],
    scopes: st.SearchStrategy[PriceScope],
    spec: _RuleSpec,
    rule_ids: st.SearchStrategy[list[str]],
) -> PriceList:
    currency = draw(codes)
    list_id = draw(ids)
    others = tuple(b for b in spec.base_lists if b != list_id)
    rule_spec = attrs.evolve(spec, base_lists=others)
    valid_from, valid_until = _draw_window(draw, spec, open_start=False)
    assert valid_from is not None  # open_start=False
    # Distinct ids first (cheap to redraw), then one rule for each.
    rules = [_draw_rule(draw, currency, rule_spec, rule_id) for rule_id in draw(rule_ids)]
    base_list_id = draw(_optional_choice(others))
    return PriceList(
        id=PriceListId(list_id),
        name=f"Price list {list_id}",
        currency=currency,
        valid_from=valid_from,
        scope=draw(scopes),
        valid_until=valid_until,
        priority=draw(_PRIORITIES),
        base_list_id=None if base_list_id is None else PriceListId(base_list_id),
        rules=rules,
    )


def price_lists(
    *,
    currency: str | st.SearchStrategy[str] | None = None,
    ids: st.SearchStrategy[str] | None = None,
    companies: Sequence[str] = DEFAULT_PRICE_COMPANIES,
    business_units: Sequence[str] = DEFAULT_PRICE_BUSINESS_UNITS,
    customer_groups: Sequence[str] = DEFAULT_PRICE_CUSTOMER_GROUPS,
    channels: Sequence[str] = DEFAULT_PRICE_CHANNELS,
    countries: Sequence[str] = DEFAULT_PRICE_COUNTRIES,
    skus: Sequence[str] = DEFAULT_PRICE_SKUS,
    products: Sequence[str] = DEFAULT_PRICE_PRODUCTS,
    categories: Sequence[str] = DEFAULT_PRICE_CATEGORIES,
    base_lists: Sequence[str] = (),
    rule_ids: st.SearchStrategy[str] | None = None,
    datetimes: st.SearchStrategy[datetime] | None = None,
    min_quantities: st.SearchStrategy[Decimal] | None = None,
    monotone_tiers: bool = False,
    min_rules: int = 0,
    max_rules: int = 5,
) -> st.SearchStrategy[PriceList]:
    """New (version 0) :class:`~b2bcore.pricing.PriceList` aggregates.

    Each list has one currency (``currency``: a code, a strategy of codes, or None
    for :func:`currencies`), an id from ``ids`` (default :func:`identifiers`), a
    scope from :func:`price_scopes` over the buyer pools, a window from
    ``datetimes`` (see :func:`price_rules`), priority 0 to 2, and ``min_rules`` to
    ``max_rules`` rules as from :func:`price_rules` with distinct ids from
    ``rule_ids``, all in the list's currency, so the list passes
    :class:`~b2bcore.pricing.PriceList` validation. ``base_lists`` are the ids a
    list may derive from (its own id is left out); whether they exist, and whether
    derivations form a cycle, is up to you — :func:`b2bcore.pricing.check_price_lists`
    tells.

    Draw a set of lists with distinct ids with
    ``st.lists(price_lists(...), unique_by=lambda p: p.id)``. Rules of one list or of
    different lists may clash (same scope, target, window and priority), which
    ``check_price_lists`` rejects; filter such sets out when you need valid ones.
    """
    for name, value in (("min_rules", min_rules), ("max_rules", max_rules)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{name} must be a whole number >= 0", path=name, value=value)
    if max_rules < min_rules:
        raise ValidationError("max_rules must be >= min_rules", path="max_rules", value=max_rules)
    spec = _rule_spec(
        skus=skus,
        products=products,
        categories=categories,
        base_lists=base_lists,
        ids=rule_ids,
        datetimes=datetimes,
        min_quantities=min_quantities,
        monotone_tiers=monotone_tiers,
        max_tiers=3,
    )
    scopes = price_scopes(
        companies=companies,
        business_units=business_units,
        customer_groups=customer_groups,
        channels=channels,
        countries=countries,
    )
    return _price_lists(
        codes=_codes(currency),
        ids=identifiers(max_length=16) if ids is None else ids,
        scopes=scopes,
        spec=spec,
        rule_ids=st.lists(spec.ids, min_size=min_rules, max_size=max_rules, unique=True),
    )


def _any_subset(pool: tuple[str, ...]) -> st.SearchStrategy[frozenset[str]]:
    if not pool:
        return st.just(frozenset())
    return st.frozensets(st.sampled_from(pool), max_size=len(pool))


def price_contexts(
    *,
    companies: Sequence[str] = DEFAULT_PRICE_COMPANIES,
    currencies: Sequence[str] = ("EUR",),
    business_units: Sequence[str] = DEFAULT_PRICE_BUSINESS_UNITS,
    customer_groups: Sequence[str] = DEFAULT_PRICE_CUSTOMER_GROUPS,
    channels: Sequence[str] = DEFAULT_PRICE_CHANNELS,
    countries: Sequence[str] = DEFAULT_PRICE_COUNTRIES,
    datetimes: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[PriceContext]:
    """:class:`~b2bcore.pricing.PriceContext` values: a buyer drawn from the pools.

    The company is one of ``companies`` and the currency one of ``currencies``; the
    business units (the buyer's unit and its ancestors) and customer groups are
    any subsets of their pools; channel and country are one of theirs or None;
    ``at`` is an aware instant from ``datetimes`` (default: :func:`aware_datetimes`
    within :data:`DEFAULT_PRICE_WINDOW`; the context keeps it in UTC).
    """
    company_pool = _pool(companies, "companies", allow_empty=False)
    if isinstance(currencies, str) or not isinstance(currencies, (list, tuple)) or not currencies:
        raise ValidationError(
            "currencies must be a non-empty list of codes", path="currencies", value=currencies
        )
    for i, code in enumerate(currencies):
        if not is_currency(code):
            raise ValidationError(
                f"{code!r} is not an ISO 4217 currency code", path=f"currencies[{i}]", value=code
            )
    return st.builds(
        PriceContext,
        company_id=st.sampled_from(company_pool).map(CompanyId),
        currency=st.sampled_from(tuple(currencies)),
        at=_instants(datetimes),
        business_unit_ids=_any_subset(_pool(business_units, "business_units")),
        customer_groups=_any_subset(_pool(customer_groups, "customer_groups")),
        channel=_optional_choice(_pool(channels, "channels")),
        country=_optional_choice(_pool(countries, "countries")),
    )


@st.composite
def _items(
    draw: st.DrawFn,
    *,
    codes: st.SearchStrategy[str],
    skus: st.SearchStrategy[str],
    products: st.SearchStrategy[str | None],
    paths: st.SearchStrategy[list[str]],
    allow_missing: bool,
) -> PriceItem:
    currency = draw(codes)
    prices = _optional_unit_prices(currency) if allow_missing else _unit_prices(currency)
    product = draw(products)
    return PriceItem(
        sku=Sku(draw(skus)),
        product_id=None if product is None else ProductId(product),
        category_path=tuple(CategoryId(c) for c in draw(paths)),
        list_price=draw(prices),
        cost=draw(prices),
    )


def price_items(
    *,
    skus: Sequence[str] = DEFAULT_PRICE_SKUS,
    products: Sequence[str] = DEFAULT_PRICE_PRODUCTS,
    categories: Sequence[str] = DEFAULT_PRICE_CATEGORIES,
    currency: str | st.SearchStrategy[str] | None = "EUR",
    allow_missing: bool = True,
) -> st.SearchStrategy[PriceItem]:
    """:class:`~b2bcore.pricing.PriceItem` values: what the catalog tells the engine.

    The SKU is one of ``skus``; the product one of ``products`` or None; the
    category path up to three distinct ids of ``categories``, read root first (so
    the same pool yields items at different depths of different trees); list price
    and cost are in ``currency`` (0 to 10 000), and each is sometimes missing unless
    ``allow_missing=False``. The same SKU may come with different products or
    categories in different draws; keep one item per SKU when that matters.
    """
    category_pool = _pool(categories, "categories")
    paths: st.SearchStrategy[list[str]] = (
        st.lists(st.sampled_from(category_pool), max_size=3, unique=True)
        if category_pool
        else st.just([])
    )
    return _items(
        codes=_codes(currency),
        skus=st.sampled_from(_pool(skus, "skus", allow_empty=False)),
        products=_optional_choice(_pool(products, "products")),
        paths=paths,
        allow_missing=allow_missing,
    )


@st.composite
def _quantity_rules(draw: st.DrawFn, skus: tuple[str, ...]) -> QuantityRule:
    increment, half = draw(st.sampled_from(_INCREMENTS))
    minimum = draw(
        st.sampled_from((Decimal(1), Decimal(2), Decimal(10), Decimal("0.5"), Decimal("2.5")))
    )
    steps = draw(st.none() | st.integers(min_value=0, max_value=20))
    extra = draw(st.sampled_from((Decimal(0), Decimal(0), half)))
    maximum = None if steps is None else minimum + steps * increment + extra
    return QuantityRule(
        sku=Sku(draw(st.sampled_from(skus))),
        minimum=minimum,
        maximum=maximum,
        increment=increment,
    )


def quantity_rules(*, skus: Sequence[str] = DEFAULT_PRICE_SKUS) -> st.SearchStrategy[QuantityRule]:
    """:class:`~b2bcore.pricing.QuantityRule` values for one of ``skus``.

    Minimum from 0.5 to 10, increment 0.5, 1, 5 or 12, and no maximum or one up to
    20 increments above the minimum (sometimes half an increment off the grid,
    as a sloppy catalog would have it).
    """
    return _quantity_rules(_pool(skus, "skus", allow_empty=False))


def carts(
    items: st.SearchStrategy[PriceItem] | None = None,
    *,
    quantities: st.SearchStrategy[Decimal] | None = None,
    min_size: int = 1,
    max_size: int = 5,
) -> st.SearchStrategy[list[CartLineInput]]:
    """Carts for :func:`~b2bcore.pricing.price_cart`: lists of
    :class:`~b2bcore.pricing.CartLineInput` with distinct SKUs.

    ``items`` defaults to :func:`price_items` in EUR; ``quantities`` to whole
    numbers from 1 to 60. Each SKU appears on one line only, with one item, so tier
    quantities summed per SKU, product or category are well defined. Draw a
    :func:`price_contexts` context in the items' currency to price them.
    """
    for name, value in (("min_size", min_size), ("max_size", max_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{name} must be a whole number >= 0", path=name, value=value)
    if max_size < min_size:
        raise ValidationError("max_size must be >= min_size", path="max_size", value=max_size)
    line_items = price_items() if items is None else items
    amounts = _CART_QUANTITIES if quantities is None else quantities
    return st.lists(
        st.builds(CartLineInput, line_items, amounts),
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda line: line.item.sku,
    )


# -- catalog ----------------------------------------------------------------------------

#: Default SKU pool of the catalog strategies (small, so relations and assortments meet).
DEFAULT_CATALOG_SKUS: Final[tuple[str, ...]] = tuple(f"SKU-{n}" for n in range(1, 9))

#: Default category ids of :func:`category_trees` and :func:`catalogs`.
DEFAULT_CATALOG_CATEGORIES: Final[tuple[str, ...]] = (
    "spares",
    "seals",
    "filters",
    "pumps",
    "tools",
)

#: Default stock locations of :func:`stock_levels`.
DEFAULT_LOCATIONS: Final[tuple[str, ...]] = ("berlin", "leipzig", "wien")

_MODELS: Final = ("PX-100", "PX-200", "PX-300")
_ATTRIBUTE_VALUES: Final = st.one_of(
    st.sampled_from(_MODELS),
    st.integers(min_value=-1000, max_value=1000),
    st.booleans(),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False, allow_infinity=False),
)
_STOCK: Final = st.integers(min_value=0, max_value=40).map(Decimal)


def _attributes() -> st.SearchStrategy[dict[str, AttributeValue]]:
    return st.dictionaries(
        st.sampled_from(("model", "fits_model", "size", "food_safe", "weight_kg")),
        _ATTRIBUTE_VALUES,
        max_size=3,
    )


@st.composite
def _category_trees(draw: st.DrawFn, pool: tuple[str, ...], max_size: int) -> list[Category]:
    ids = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=max_size, unique=True))
    tree: list[Category] = []
    for i, cid in enumerate(ids):
        parent = draw(st.none() | st.sampled_from(ids[:i])) if i else None
        tree.append(Category(id=cid, name=f"Category {cid}", parent_id=parent))
    return tree


def category_trees(
    *, ids: Sequence[str] = DEFAULT_CATALOG_CATEGORIES, max_size: int = 5
) -> st.SearchStrategy[list[Category]]:
    """Forests of :class:`~b2bcore.catalog.Category` (distinct ids from ``ids``),
    parents listed before their children; never a loop."""
    return _category_trees(_pool(ids, "ids", allow_empty=False), max_size)


@st.composite
def _products(
    draw: st.DrawFn,
    sku: str,
    skus: tuple[str, ...],
    categories: tuple[str, ...],
    currency: str,
) -> Product:
    others = tuple(s for s in skus if s != sku)
    discontinued = draw(st.integers(0, 4)) == 0
    successor = draw(st.none() | st.sampled_from(others)) if discontinued and others else None
    price = None if draw(st.integers(0, 3)) == 0 else draw(_unit_prices(currency))
    return Product(
        sku=sku,
        name=f"Product {sku}",
        category_id=draw(st.none() | st.sampled_from(categories)) if categories else None,
        attributes=draw(_attributes()),
        lifecycle=Lifecycle.DISCONTINUED if discontinued else Lifecycle.ACTIVE,
        successor_sku=successor,
        list_price=price,
        cost=draw(st.none() | _unit_prices(currency)) if price is not None else None,
    )


def products(
    *,
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    categories: Sequence[str] = DEFAULT_CATALOG_CATEGORIES,
    currency: str = "EUR",
) -> st.SearchStrategy[Product]:
    """Single :class:`~b2bcore.catalog.Product` values: a SKU of ``skus``, maybe a
    category of ``categories``, a few attributes of every kind, sometimes
    discontinued (with or without a successor among ``skus``), and list price and
    cost in ``currency`` or missing. No parent (variants need a catalog: see
    :func:`catalogs`)."""
    pool = _pool(skus, "skus", allow_empty=False)
    cats = _pool(categories, "categories")
    codes = _codes(currency)
    return st.tuples(st.sampled_from(pool), codes).flatmap(
        lambda pair: _products(pair[0], pool, cats, pair[1])
    )


def selections(
    *,
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    categories: Sequence[str] = DEFAULT_CATALOG_CATEGORIES,
) -> st.SearchStrategy[Selection]:
    """:class:`~b2bcore.catalog.Selection` values naming a few SKUs, products (SKUs
    of ``skus`` as parents) and categories; often empty."""
    sku_pool = _pool(skus, "skus", allow_empty=False)
    cat_pool = _pool(categories, "categories")
    return st.builds(
        Selection,
        skus=st.frozensets(st.sampled_from(sku_pool), max_size=3),
        products=st.frozensets(st.sampled_from(sku_pool), max_size=2),
        categories=(
            st.frozensets(st.sampled_from(cat_pool), max_size=2)
            if cat_pool
            else st.just(frozenset())
        ),
    )


def assortments(
    *,
    company_id: str = "acme",
    business_unit_ids: Sequence[str] = (),
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    categories: Sequence[str] = DEFAULT_CATALOG_CATEGORIES,
) -> st.SearchStrategy[Assortment]:
    """:class:`~b2bcore.catalog.Assortment` values of ``company_id``: the company's
    own, or one of ``business_unit_ids``', with :func:`selections` to include and
    exclude (include and exclude may overlap: exclude wins)."""
    company = check_id(company_id, path="company_id")
    units = _pool(business_unit_ids, "business_unit_ids")
    unit: st.SearchStrategy[str | None] = st.none() | st.sampled_from(units) if units else st.none()
    chosen = selections(skus=skus, categories=categories)
    return st.builds(
        Assortment,
        company_id=st.just(company),
        business_unit_id=unit,
        include=chosen,
        exclude=chosen,
    )


def product_relations(
    *, skus: Sequence[str] = DEFAULT_CATALOG_SKUS
) -> st.SearchStrategy[ProductRelation]:
    """:class:`~b2bcore.catalog.ProductRelation` values between two distinct SKUs of
    ``skus``, of any type (replacements are never bidirectional), ranked 0-100."""
    pool = _pool(skus, "skus", allow_empty=False)
    if len(pool) < 2:
        raise ValidationError("give at least two SKUs", path="skus", value=skus)

    @st.composite
    def build(draw: st.DrawFn) -> ProductRelation:
        source, target = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(RelationType))
        both = kind is not RelationType.REPLACEMENT and draw(st.booleans())
        return ProductRelation(
            source_sku=source,
            target_sku=target,
            type=kind,
            rank=draw(st.integers(0, 100)),
            bidirectional=both,
        )

    return build()


def relation_rules(
    *, categories: Sequence[str] = DEFAULT_CATALOG_CATEGORIES
) -> st.SearchStrategy[RelationRule]:
    """:class:`~b2bcore.catalog.RelationRule` values between categories of
    ``categories`` (never replacements), sometimes matching ``model`` to
    ``fits_model``."""
    pool = _pool(categories, "categories", allow_empty=False)
    kinds = tuple(t for t in RelationType if t is not RelationType.REPLACEMENT)
    match = st.sampled_from(((), (AttributeMatch(source="model", target="fits_model"),)))
    return st.builds(
        RelationRule,
        id=st.sampled_from(("r-1", "r-2", "r-3")),
        type=st.sampled_from(kinds),
        target_category=st.sampled_from(pool),
        source_category=st.none() | st.sampled_from(pool),
        match=match,
        rank=st.integers(0, 100),
    )


@st.composite
def _catalogs(
    draw: st.DrawFn, skus: tuple[str, ...], categories: tuple[str, ...], currency: str
) -> InMemoryCatalog:
    tree = draw(category_trees(ids=categories, max_size=len(categories)))
    cat_ids = tuple(c.id for c in tree)
    chosen = draw(st.lists(st.sampled_from(skus), min_size=1, max_size=len(skus), unique=True))
    items: list[Product] = []
    for i, sku in enumerate(chosen):
        product = draw(_products(sku, tuple(chosen), cat_ids, currency))
        # Successors point forward and parents backward: no loops, variants one deep.
        later = chosen[i + 1 :]
        if product.successor_sku is not None:
            product.successor_sku = Sku(draw(st.sampled_from(later))) if later else None
        tops = [p.sku for p in items if p.parent_sku is None]
        if tops and draw(st.integers(0, 3)) == 0:
            product.parent_sku = Sku(draw(st.sampled_from(tops)))
        items.append(product)
    drawn = draw(
        st.lists(product_relations(skus=chosen), max_size=10, unique_by=lambda r: r.key)
        if len(chosen) > 1
        else st.just([])
    )
    # Replacements point forward too, so successors and replacements never loop.
    order = {sku: i for i, sku in enumerate(chosen)}
    relations = {
        r.key: r
        for r in (
            attrs.evolve(r, source_sku=r.target_sku, target_sku=r.source_sku)
            if r.type is RelationType.REPLACEMENT and order[r.source_sku] > order[r.target_sku]
            else r
            for r in drawn
        )
    }
    rules = draw(st.lists(relation_rules(categories=cat_ids), max_size=2, unique_by=lambda r: r.id))
    return InMemoryCatalog(
        categories=tree, products=items, relations=relations.values(), rules=rules
    )


def catalogs(
    *,
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    categories: Sequence[str] = DEFAULT_CATALOG_CATEGORIES,
    currency: str = "EUR",
) -> st.SearchStrategy[InMemoryCatalog]:
    """Consistent catalogs as an :class:`~b2bcore.catalog.InMemoryCatalog`: a
    :func:`category_trees` forest, products with distinct SKUs in its categories
    (some variants of an earlier top product, some discontinued with a later
    successor), explicit relations between them (replacements also to a later
    product, so successors and replacements never loop) and a couple of relation
    rules. Everything in it passes the catalog service's write-time checks."""
    if not is_currency(currency):
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency code", path="currency", value=currency
        )
    return _catalogs(
        _pool(skus, "skus", allow_empty=False),
        _pool(categories, "categories", allow_empty=False),
        currency,
    )


@st.composite
def _stock_levels(
    draw: st.DrawFn, sku: str, locations: tuple[str, ...], instants: st.SearchStrategy[datetime]
) -> StockLevel:
    on_hand = draw(_STOCK)
    reserved = draw(st.integers(0, 45).map(Decimal))  # sometimes more than on hand
    incoming = draw(
        st.lists(st.builds(Incoming, st.integers(1, 30).map(Decimal), instants), max_size=3)
    )
    return StockLevel(
        sku=sku,
        location=draw(st.sampled_from(locations)),
        on_hand=on_hand,
        reserved=reserved,
        incoming=incoming,
    )


def stock_levels(
    *,
    sku: str = "SKU-1",
    locations: Sequence[str] = DEFAULT_LOCATIONS,
    datetimes: st.SearchStrategy[datetime] | None = None,
) -> st.SearchStrategy[StockLevel]:
    """:class:`~b2bcore.catalog.StockLevel` values of ``sku`` at one of
    ``locations``: 0-40 on hand, 0-45 reserved (a count may have found less than is
    reserved), up to three incoming deliveries at instants of ``datetimes``
    (default: :data:`DEFAULT_PRICE_WINDOW`). Draw a list with
    ``unique_by=lambda lv: lv.location`` for one SKU's stock."""
    return _stock_levels(
        check_id(sku, path="sku"),
        _pool(locations, "locations", allow_empty=False),
        _instants(datetimes),
    )


# -- business calendars -------------------------------------------------------------------

#: The default zones of :func:`business_calendars`: none, DST north and south (Lord
#: Howe shifts by 30 minutes), a quarter-hour offset and a half-hour one with DST.
DEFAULT_CALENDAR_TIMEZONES: Final[tuple[str, ...]] = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
)


def _quarter_hour(n: int, *, end: bool) -> str:
    if end and n == 96:
        return "24:00"
    return f"{n // 4:02d}:{n % 4 * 15:02d}"


@st.composite
def _calendars(
    draw: st.DrawFn, zones: tuple[str, ...], holidays: st.SearchStrategy[date]
) -> BusinessCalendar:
    hours: list[WorkingHours] = []
    for weekday in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 96), max_size=4)))
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            hours.append(
                WorkingHours(weekday, _quarter_hour(start, end=False), _quarter_hour(end, end=True))
            )
    if not hours:
        hours.append(WorkingHours(draw(st.integers(0, 6)), "09:00", "17:00"))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(zones)),
        hours=hours,
        holidays=draw(st.sets(holidays, max_size=6)),
    )


def business_calendars(
    *,
    timezones: Sequence[str] = DEFAULT_CALENDAR_TIMEZONES,
    holidays_from: date = date(2025, 1, 1),
    holidays_until: date = date(2027, 12, 31),
) -> st.SearchStrategy[BusinessCalendar]:
    """:class:`~b2bcore.calendar.BusinessCalendar` values: on each weekday none to
    two windows on a quarter-hour grid (night hours included, so daylight saving
    switches fall inside windows; ``24:00`` ends turn up), in one of ``timezones``,
    with up to six holidays between ``holidays_from`` and ``holidays_until``. At
    least one window always exists."""
    zones = _pool(timezones, "timezones", allow_empty=False)
    for i, zone in enumerate(zones):
        try:
            get_zone(zone)
        except ValidationError as e:
            raise ValidationError(e.reason, path=f"timezones[{i}]", value=zone) from None
    return _calendars(zones, st.dates(min_value=holidays_from, max_value=holidays_until))


# -- orders -------------------------------------------------------------------------------

#: Quantities of order lines: whole numbers, and tenths (spare parts sold by the metre).
_ORDER_QUANTITIES: Final = st.one_of(
    st.integers(min_value=1, max_value=50).map(Decimal),
    st.integers(min_value=1, max_value=99).map(lambda n: Decimal(n).scaleb(-1)),
)
_ORDER_ROUNDINGS: Final = st.builds(
    RoundingPolicy,
    st.sampled_from([RoundingMode.HALF_UP, RoundingMode.HALF_EVEN]),
    st.sampled_from(RoundingStage),
)
_ORDER_AT: Final = datetime(2026, 5, 4, 9, tzinfo=UTC)


def shopping_carts(
    *,
    company_id: str = "acme",
    owner_id: str = "u-ben",
    currency: str = "EUR",
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    max_lines: int = 5,
) -> st.SearchStrategy[Cart]:
    """Open :class:`~b2bcore.orders.Cart` s of ``owner_id``: up to ``max_lines``
    lines of distinct SKUs from ``skus`` with whole or tenth quantities."""
    pool = _pool(skus, "skus", allow_empty=False)
    lines = st.lists(
        st.builds(CartLine, st.sampled_from(pool), _ORDER_QUANTITIES),
        max_size=max_lines,
        unique_by=lambda line: line.sku,
    )
    return st.builds(
        Cart,
        id=identifiers(max_length=26),
        company_id=st.just(check_id(company_id, path="company_id")),
        owner_id=st.just(check_id(owner_id, path="owner_id")),
        currency=st.just(currency),
        created_at=st.just(_ORDER_AT),
        lines=lines,
    )


@st.composite
def _orders(
    draw: st.DrawFn, company_id: str, currency: str, skus: tuple[str, ...], max_lines: int
) -> Order:
    chosen = draw(st.lists(st.sampled_from(skus), min_size=1, max_size=max_lines, unique=True))
    inputs = [
        CartLineInput(
            PriceItem(
                sku=Sku(sku),
                category_path=[CategoryId("spares")],
                list_price=draw(money(currency, min_amount=0, max_amount=2000, rounded=False)),
            ),
            draw(_ORDER_QUANTITIES),
        )
        for sku in chosen
    ]
    price_list = PriceList(
        id=PriceListId("orders"),
        name="Orders",
        currency=currency,
        valid_from=_ORDER_AT - timedelta(days=1),
        rules=[
            PriceRule(
                id="all",
                target=RuleTarget.all(),
                formula=Formula(percent=draw(_percents(-30, 20))),
                min_quantity=Decimal("0.1"),
            )
        ],
    )
    discounts = draw(
        st.lists(
            st.builds(
                CartDiscount,
                id=st.sampled_from(["promo"]),
                name=st.just("Promotion"),
                percent=_percents(1, 15),
            ),
            max_size=1,
        )
    )
    priced = price_cart(
        PriceContext(company_id=CompanyId(company_id), currency=currency, at=_ORDER_AT),
        inputs,
        lists=[price_list],
        discounts=[DiscountSet("promo", discounts)] if discounts else [],
        rounding=draw(_ORDER_ROUNDINGS),
    )
    lines = tuple(
        OrderLine(
            line_no=i + 1,
            sku=line.item.sku,
            quantity=line.quantity,
            price=attrs.evolve(line.quote, explanation=line.quote.explanation.for_buyer()),
            unit_price=line.quote.unit_price,
            gross=line.gross,
            discount=line.discount,
            rounding=line.rounding,
            net=line.net,
            name=f"Part {line.item.sku}",
            categories=(CategoryId("spares"),),
        )
        for i, line in enumerate(priced.lines)
    )
    return Order(
        id=OrderId(draw(identifiers(max_length=26))),
        company_id=CompanyId(company_id),
        requester_id=UserId(draw(st.sampled_from(["u-ben", "u-clara"]))),
        placed_by="u-ben",
        currency=currency,
        lines=lines,
        total=priced.total,
        created_at=_ORDER_AT,
        status=OrderStatus.PLACED,
        history=(StatusChange(to_status=OrderStatus.PLACED.value, at=_ORDER_AT, by="u-ben"),),
        business_unit_id=BusinessUnitId(draw(st.sampled_from(["hq", "plant"]))),
    )


def orders(
    *,
    company_id: str = "acme",
    currency: str = "EUR",
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    max_lines: int = 5,
) -> st.SearchStrategy[Order]:
    """Placed :class:`~b2bcore.orders.Order` s priced through the pricing engine:
    up to ``max_lines`` SKUs with list prices up to 2000 (unrounded ones too), a
    formula from -30% to +20%, sometimes a cart discount, every rounding stage; each
    line pins its explained quote (as a buyer may see it)."""
    if not is_currency(currency):
        raise ValidationError(
            f"{currency!r} is not an ISO 4217 currency code", path="currency", value=currency
        )
    return _orders(
        check_id(company_id, path="company_id"),
        currency,
        _pool(skus, "skus", allow_empty=False),
        max_lines,
    )


@st.composite
def _quantity_sequences(
    draw: st.DrawFn, order: Order, max_steps: int, excess: bool
) -> list[dict[str, Decimal]]:
    left = {line.sku: line.quantity for line in order.lines}
    steps: list[dict[str, Decimal]] = []
    for _ in range(draw(st.integers(min_value=1, max_value=max_steps))):
        open_skus = sorted(sku for sku, q in left.items() if q > 0)
        if not open_skus and not excess:
            break
        pool = open_skus or sorted(left)
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, unique=True))
        step: dict[str, Decimal] = {}
        for sku in chosen:
            ceiling = left[sku] + (Decimal(3) if excess else Decimal(0))
            tenths = int(
                ceiling.scaleb(1, context=_CTX).to_integral_value(rounding=decimal.ROUND_FLOOR)
            )
            if tenths < 1:
                continue
            q = Decimal(draw(st.integers(min_value=1, max_value=tenths))).scaleb(-1)
            step[sku] = q
            left[sku] = _CTX.subtract(left[sku], q) if q <= left[sku] else left[sku]
        if step:
            steps.append(step)
    return steps


def shipment_sequences(
    order: Order, *, max_steps: int = 4, excess: bool = True
) -> st.SearchStrategy[list[dict[str, Decimal]]]:
    """Sequences of shipments (or invoices) of ``order``: each step maps some of its
    SKUs to a quantity (tenths). With ``excess`` a step may ask for up to 3 more
    than is left of a line — a model must refuse exactly those; without, every step
    fits what the steps before it left."""
    if not isinstance(order, Order):
        raise ValidationError("must be an Order", path="order", value=order)
    return _quantity_sequences(order, max_steps, excess)


# -- approvals ----------------------------------------------------------------------------

#: Roles the approvals strategies name (shared pools, so predicates, subjects and
#: policies meet).
DEFAULT_APPROVAL_ROLES: Final[tuple[str, ...]] = ("approver", "manager", "finance")
#: Users the approvals strategies name: requesters and named approvers.
DEFAULT_APPROVAL_USERS: Final[tuple[str, ...]] = ("u-ana", "u-ben", "u-clara", "u-dora", "u-eve")
#: SKUs of subject lines and of ``sku`` conditions.
DEFAULT_APPROVAL_SKUS: Final[tuple[str, ...]] = ("PUMP-200", "SEAL-7", "HOSE-2")
#: Categories of subject lines and of ``category`` conditions.
DEFAULT_APPROVAL_CATEGORIES: Final[tuple[str, ...]] = ("spares", "pumps", "seals")
#: Business units of subjects and of rules' requester units.
DEFAULT_APPROVAL_UNITS: Final[tuple[str, ...]] = ("hq", "leipzig", "maint")
#: Cost centers of subjects and of ``cost_center`` conditions.
DEFAULT_COST_CENTERS: Final[tuple[str, ...]] = ("CC-4711", "CC-9")

_TEXT_LITERALS: Final = st.one_of(
    st.sampled_from(DEFAULT_APPROVAL_SKUS + DEFAULT_APPROVAL_CATEGORIES + DEFAULT_COST_CENTERS),
    st.text(alphabet=st.sampled_from("ab \"\\'-_.é"), max_size=6),
)


def _money_literals(currencies: tuple[str, ...]) -> st.SearchStrategy[Money]:
    return st.builds(
        Money,
        st.integers(-1000, 2_000_000).map(lambda cents: Decimal(cents).scaleb(-2)),
        st.sampled_from(currencies),
    )


def _predicate_leaves(currencies: tuple[str, ...]) -> st.SearchStrategy[Node]:
    money_fields = st.sampled_from(["total", "budget_remaining"])
    set_fields = st.sampled_from(["sku", "category", "business_unit", "requester_role"])
    text_fields = st.sampled_from(["currency", "cost_center"])
    numbers = st.integers(-5, 50).map(Decimal) | st.decimals(
        min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False
    )
    return st.one_of(
        st.builds(
            Compare, money_fields, st.sampled_from(_PREDICATE_OPS), _money_literals(currencies)
        ),
        st.builds(
            Compare,
            st.just("budget_remaining"),
            st.sampled_from(_PREDICATE_OPS),
            st.just(FieldRef("total")),
        ),
        st.builds(Compare, st.just("line_count"), st.sampled_from(_PREDICATE_OPS), numbers),
        st.builds(Compare, text_fields | set_fields, st.sampled_from(["=", "!="]), _TEXT_LITERALS),
        st.builds(
            IsIn,
            text_fields | set_fields,
            st.lists(_TEXT_LITERALS, min_size=1, max_size=3).map(tuple),
            st.booleans(),
        ),
        st.builds(
            IsIn,
            st.just("line_count"),
            st.lists(numbers, min_size=1, max_size=3).map(tuple),
            st.booleans(),
        ),
        st.builds(Const, st.booleans()),
    )


_PREDICATE_OPS: Final = ("=", "!=", "<", "<=", ">", ">=")


def predicates(
    *, currencies: Sequence[str] = ("EUR", "USD"), max_leaves: int = 8
) -> st.SearchStrategy[Predicate]:
    """:class:`~b2bcore.approvals.predicate.Predicate` trees over every field and
    operator: amounts in ``currencies``, numbers, text with quotes and backslashes
    (escaping), ``in`` lists, ``not``, ``and``/``or`` nested in any way. Print one
    with ``str(p)``; :func:`~b2bcore.approvals.predicate.parse_predicate` reads it
    back to an equal tree."""
    codes = tuple(currencies)
    for i, code in enumerate(codes):
        if not is_currency(code):
            raise ValidationError(f"{code!r} is not a currency", path=f"currencies[{i}]")
    nodes: st.SearchStrategy[Node] = st.recursive(
        _predicate_leaves(codes),
        lambda children: st.one_of(
            st.builds(Not, children),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
        ),
        max_leaves=max_leaves,
    )
    return nodes.map(Predicate)


def approval_subjects(
    *,
    company_id: str = "acme",
    requesters: Sequence[str] = DEFAULT_APPROVAL_USERS,
    currency: str = "EUR",
    max_total: int = 30_000,
) -> st.SearchStrategy[Subject]:
    """:class:`~b2bcore.approvals.model.Subject` snapshots of carts, orders and
    quotes of ``company_id``: a requester from ``requesters``, up to four lines of
    the shared SKUs and categories, the total their sum (0 to ``max_total``), a unit
    of :data:`DEFAULT_APPROVAL_UNITS` or none, a cost center or none."""
    who = _pool(requesters, "requesters", allow_empty=False)
    cid = check_id(company_id, path="company_id")
    if not is_currency(currency):
        raise ValidationError(f"{currency!r} is not a currency", path="currency")
    return _approval_subjects(cid, who, currency, max_total)


@st.composite
def _approval_subjects(
    draw: st.DrawFn, company_id: str, requesters: tuple[str, ...], currency: str, max_total: int
) -> Subject:
    digits = minor_units(currency)
    lines = []
    for _ in range(draw(st.integers(0, 4))):
        amount = Decimal(draw(st.integers(0, max_total * 10**digits // 4))).scaleb(-digits)
        lines.append(
            SubjectLine(
                sku=draw(st.sampled_from(DEFAULT_APPROVAL_SKUS)),
                amount=Money(amount, currency),
                categories=draw(st.sets(st.sampled_from(DEFAULT_APPROVAL_CATEGORIES), max_size=2)),
                quantity=draw(st.integers(1, 20)),
            )
        )
    total = sum((line.amount for line in lines), Money.zero(currency))
    return Subject(
        ref=SubjectRef(
            draw(st.sampled_from(["cart", "order", "quote"])), draw(identifiers(max_length=12))
        ),
        company_id=company_id,
        requester_id=draw(st.sampled_from(requesters)),
        total=total,
        lines=lines,
        business_unit_id=draw(st.none() | st.sampled_from(DEFAULT_APPROVAL_UNITS)),
        cost_center=draw(st.none() | st.sampled_from(DEFAULT_COST_CENTERS)),
    )


def requirements(
    *,
    roles: Sequence[str] = DEFAULT_APPROVAL_ROLES,
    users: Sequence[str] = DEFAULT_APPROVAL_USERS,
    max_leaves: int = 5,
) -> st.SearchStrategy[Requirement]:
    """:class:`~b2bcore.approvals.model.Requirement` trees: roles of ``roles``,
    named users of ``users``, combined with any / all / at least M of N, nested."""
    role_pool = _pool(roles, "roles", allow_empty=False)
    user_pool = _pool(users, "users")
    leaves = st.sampled_from(role_pool).map(Requirement.role)
    if user_pool:
        leaves = leaves | st.sampled_from(user_pool).map(Requirement.user)

    def combine(children: st.SearchStrategy[Requirement]) -> st.SearchStrategy[Requirement]:
        items = st.lists(children, min_size=1, max_size=3)
        return st.one_of(
            items.map(lambda xs: Requirement.any_of(*xs)),
            items.map(lambda xs: Requirement.all_of(*xs)),
            items.flatmap(
                lambda xs: st.integers(1, len(xs)).map(lambda n: Requirement.at_least(n, *xs))
            ),
        )

    return st.recursive(leaves, combine, max_leaves=min(max_leaves, MAX_LEAVES))


def approval_policies(
    *,
    company_id: str = "acme",
    roles: Sequence[str] = DEFAULT_APPROVAL_ROLES,
    users: Sequence[str] = DEFAULT_APPROVAL_USERS,
    currency: str = "EUR",
    calendars: st.SearchStrategy[BusinessCalendar] | None = None,
    conditions: st.SearchStrategy[Predicate] | None = None,
    requester_filters: bool = True,
    max_rules: int = 3,
) -> st.SearchStrategy[ApprovalPolicy]:
    """:class:`~b2bcore.approvals.model.ApprovalPolicy` values of ``company_id``: up
    to ``max_rules`` rules with conditions from ``conditions`` (default
    :func:`predicates` in ``currency`` only, so they never compare across currencies
    for subjects in it), requester roles and units (unless ``requester_filters`` is
    false), one to three tiers of :func:`requirements`; with ``calendars``, some
    tiers time out and escalate to a role or the parent unit."""
    cid = check_id(company_id, path="company_id")
    role_pool = _pool(roles, "roles", allow_empty=False)
    return _approval_policies(
        cid,
        roles=role_pool,
        approvers=requirements(roles=roles, users=users),
        conditions=conditions
        if conditions is not None
        else predicates(currencies=(currency,), max_leaves=4),
        calendars=calendars,
        filters=requester_filters,
        max_rules=max_rules,
    )


@st.composite
def _approval_policies(
    draw: st.DrawFn,
    company_id: str,
    *,
    roles: tuple[str, ...],
    approvers: st.SearchStrategy[Requirement],
    conditions: st.SearchStrategy[Predicate],
    calendars: st.SearchStrategy[BusinessCalendar] | None,
    filters: bool,
    max_rules: int,
) -> ApprovalPolicy:
    calendar = draw(calendars) if calendars is not None else None
    rules = []
    for i in range(draw(st.integers(0, max_rules))):
        tiers = []
        for j in range(draw(st.integers(1, 3))):
            timeout = escalate = None
            if calendar is not None and draw(st.booleans()):
                timeout = timedelta(minutes=15 * draw(st.integers(1, 64)))
                escalate = draw(
                    st.none()
                    | st.sampled_from(roles).map(Escalation.to_role)
                    | st.just(Escalation.to_parent_unit())
                )
            tiers.append(
                ApprovalTier(
                    name=f"Tier {j + 1}",
                    approvers=draw(approvers),
                    timeout=timeout,
                    escalate_to=escalate,
                )
            )
        rules.append(
            ApprovalRule(
                id=f"rule-{i}",
                name=f"Rule {i}",
                condition=draw(conditions),
                tiers=tiers,
                requester_roles=draw(st.sets(st.sampled_from(roles), max_size=int(filters))),
                requester_units=draw(
                    st.sets(st.sampled_from(DEFAULT_APPROVAL_UNITS), max_size=int(filters))
                ),
            )
        )
    return ApprovalPolicy(company_id=company_id, rules=rules, calendar=calendar)


# -- scheduling ---------------------------------------------------------------------------

#: The default zones of scheduling strategies: none, DST north and south (Lord Howe
#: shifts by 30 minutes, St. John's has a half-hour offset with DST), a quarter-hour
#: offset, a half-hour offset without DST.
DEFAULT_SCHEDULING_TIMEZONES: Final[tuple[str, ...]] = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Australia/Sydney",
    "America/St_Johns",
    "Asia/Kathmandu",
    "Asia/Kolkata",
)

#: The default skill pool of scheduling strategies.
DEFAULT_SCHEDULING_SKILLS: Final[tuple[str, ...]] = ("hvac", "gas", "electric", "forklift")

_WEEKDAY_CODES: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _five_minutes(n: int) -> str:
    return f"{n * 5 // 60:02d}:{n * 5 % 60:02d}"


@st.composite
def _time_ranges(draw: st.DrawFn, max_ranges: int) -> list[TimeRange]:
    cuts = sorted(draw(st.sets(st.integers(0, 288), min_size=2, max_size=2 * max_ranges)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    return [
        TimeRange(_five_minutes(a), _five_minutes(b))
        for a, b in zip(cuts[::2], cuts[1::2], strict=True)
    ]


@st.composite
def _availabilities(draw: st.DrawFn, first: date, last: date) -> Availability:
    days = st.dates(min_value=first, max_value=last)
    rules = []
    for _ in range(draw(st.integers(1, 2))):
        weekdays = draw(st.lists(st.sampled_from(_WEEKDAY_CODES), min_size=1, max_size=7))
        rules.append(
            AvailabilityRule.weekly(
                weekdays,
                draw(_time_ranges(2)),
                every_weeks=draw(st.sampled_from((1, 1, 1, 2, 3))),
                anchor=draw(days),
            )
        )
    overrides = [
        DateOverride(draw(days), draw(st.one_of(st.just([]), _time_ranges(1))), draw(st.booleans()))
        for _ in range(draw(st.integers(0, 3)))
    ]
    holidays = [
        HolidayCalendar("Holidays", draw(st.sets(days, max_size=4)))
        for _ in range(draw(st.integers(0, 1)))
    ]
    return Availability(rules=rules, overrides=overrides, holidays=holidays)


def availabilities(
    *, first: date = date(2026, 1, 1), last: date = date(2026, 12, 31)
) -> st.SearchStrategy[Availability]:
    """:class:`~b2bcore.scheduling.Availability` values: one or two weekly rules (some
    rotating every two or three weeks from an anchor date) with one or two ranges of
    hours on the 5-minute grid anywhere in the day (night hours included, so daylight
    saving switches fall inside them; ``24:00`` ends occur), up to three date
    overrides (days off, replaced or extra hours) and up to four holidays between
    ``first`` and ``last``."""
    if isinstance(first, datetime) or not isinstance(first, date):
        raise ValidationError("must be a date", path="first", value=first)
    if isinstance(last, datetime) or not isinstance(last, date) or last < first:
        raise ValidationError("must be a date on or after first", path="last", value=last)
    return _availabilities(first, last)


@st.composite
def _service_types(
    draw: st.DrawFn, ids: tuple[str, ...], skills: tuple[str, ...], groups: bool
) -> ServiceType:
    duration = draw(st.sampled_from((5, 15, 30, 45, 60, 90, 120, 240)))
    extra = []
    if groups and draw(st.booleans()):
        extra.append(ResourceRequirement("bay"))
    return ServiceType(
        id=ServiceTypeId(draw(st.sampled_from(ids))),
        name="Service",
        duration_minutes=duration,
        buffer_before_minutes=draw(st.sampled_from((0, 0, 5, 15, 30))),
        buffer_after_minutes=draw(st.sampled_from((0, 0, 10, 15, 60))),
        interval_minutes=draw(st.sampled_from((0, 5, 15, 30, 60))),
        min_notice_minutes=draw(st.sampled_from((0, 30, 120, 24 * 60))),
        horizon_days=draw(st.integers(1, 60)),
        required_skills=draw(st.sets(st.sampled_from(skills), max_size=1)) if skills else set(),
        also_requires=extra,
        capacity=draw(st.sampled_from((1, 1, 1, 2, 3))),
        cutoff_minutes=draw(st.sampled_from((0, 60, 24 * 60))),
        needs_confirmation=draw(st.booleans()),
        hold_minutes=draw(st.sampled_from((5, 15, 60))),
    )


def service_types(
    *,
    ids: Sequence[str] = ("svc-a", "svc-b"),
    skills: Sequence[str] = DEFAULT_SCHEDULING_SKILLS,
    also_bays: bool = True,
) -> st.SearchStrategy[ServiceType]:
    """:class:`~b2bcore.scheduling.ServiceType` values: durations from 5 minutes to 4
    hours, buffers, intervals (0: the duration), notice, horizon, at most one required
    skill from ``skills``, sometimes a bay besides the technician (``also_bays``),
    one to three seats, cutoffs and confirmation."""
    return _service_types(_pool(ids, "ids", allow_empty=False), tuple(skills), bool(also_bays))


@st.composite
def _service_resources(
    draw: st.DrawFn,
    ids: tuple[str, ...],
    zones: tuple[str, ...],
    skills: tuple[str, ...],
    groups: tuple[str, ...],
    *,
    availability: st.SearchStrategy[Availability],
) -> Resource:
    return Resource(
        id=ResourceId(draw(st.sampled_from(ids))),
        name="Resource",
        group=draw(st.sampled_from(groups)),
        skills=draw(st.sets(st.sampled_from(skills), max_size=len(skills))) if skills else set(),
        timezone=draw(st.sampled_from(zones)),
        availability=draw(availability),
        daily_limit=draw(st.sampled_from((None, None, 1, 3))),
        weekly_limit=draw(st.sampled_from((None, None, 5))),
        active=draw(st.sampled_from((True, True, True, False))),
    )


def service_resources(
    *,
    ids: Sequence[str] = ("tech-1", "tech-2", "tech-3", "bay-1"),
    timezones: Sequence[str] = DEFAULT_SCHEDULING_TIMEZONES,
    skills: Sequence[str] = DEFAULT_SCHEDULING_SKILLS,
    groups: Sequence[str] = ("technician", "technician", "bay"),
    availability: st.SearchStrategy[Availability] | None = None,
) -> st.SearchStrategy[Resource]:
    """:class:`~b2bcore.scheduling.Resource` values: of one of ``groups``, with some
    of ``skills``, in one of ``timezones``, with :func:`availabilities` (or
    ``availability``), sometimes daily or weekly limits, sometimes inactive. Draw
    several with ``st.lists(..., unique_by=lambda r: r.id)``."""
    zones = _pool(timezones, "timezones", allow_empty=False)
    for i, name in enumerate(zones):
        try:
            get_zone(name)
        except ValidationError as e:
            raise ValidationError(e.reason, path=f"timezones[{i}]", value=name) from None
    return _service_resources(
        _pool(ids, "ids", allow_empty=False),
        zones,
        tuple(skills),
        _pool(groups, "groups", allow_empty=False),
        availability=availability if availability is not None else availabilities(),
    )


# -- claims, assets, documents ------------------------------------------------------------

_CLAIM_STATUSES: Final = tuple(ClaimStatus)
#: Every move a claim type's lifecycle may list (LifecycleStep accepts exactly these).
_CLAIM_MOVES: Final = tuple(
    (a, b)
    for a in _CLAIM_STATUSES
    for b in _CLAIM_STATUSES
    if a is not b
    and a not in FINAL_STATUSES
    and b is not ClaimStatus.DRAFT
    and (a is not ClaimStatus.DRAFT or b in (ClaimStatus.SUBMITTED, ClaimStatus.CANCELLED))
)
_SUBMIT: Final = (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED)
_START_RESOLVING: Final = (ClaimStatus.APPROVED, ClaimStatus.RESOLUTION_IN_PROGRESS)


@st.composite
def _lifecycle_steps(
    draw: st.DrawFn, moves: tuple[tuple[ClaimStatus, ClaimStatus], ...]
) -> LifecycleStep:
    a, b = draw(st.sampled_from(moves))
    parties = draw(st.sets(st.sampled_from(tuple(Party)), min_size=1))
    days = draw(st.one_of(st.none(), st.none(), st.integers(min_value=1, max_value=30)))
    return LifecycleStep(a, b, parties, days)


@st.composite
def _claim_types(draw: st.DrawFn, ids: tuple[str, ...]) -> ClaimType:
    chosen = draw(st.sets(st.sampled_from(_CLAIM_MOVES), max_size=len(_CLAIM_MOVES)))
    resolutions = draw(st.sets(st.sampled_from(tuple(ResolutionKind))))
    needed = {_SUBMIT, *([_START_RESOLVING] if resolutions else [])}
    moves = tuple(m for m in _CLAIM_MOVES if m in chosen | needed)
    steps = [draw(_lifecycle_steps((m,))) for m in moves]
    sources = draw(st.sets(st.sampled_from(tuple(LineSource))))
    evidence = draw(st.sets(st.sampled_from(tuple(Evidence))))
    if not sources:
        evidence -= {Evidence.SERIAL_NUMBER, Evidence.ORDER_REFERENCE}
    if LineSource.ORDER_LINE not in sources:
        evidence -= {Evidence.ORDER_REFERENCE}
    priorities = draw(st.sets(st.sampled_from(tuple(Priority))))
    sla = []
    for priority in sorted(priorities, key=lambda p: p.value):
        first = draw(st.integers(min_value=1, max_value=40 * 60))
        extra = draw(st.integers(min_value=0, max_value=200 * 60))
        sla.append(SlaTarget(priority, timedelta(minutes=first), timedelta(minutes=first + extra)))
    return ClaimType(
        id=draw(st.sampled_from(ids)),
        name=draw(st.sampled_from(("Warranty", "Damage", "Question", "Retour"))),
        steps=steps,
        evidence=evidence,
        resolutions=resolutions,
        line_sources=sources,
        sla=sla,
        checks_warranty=draw(st.booleans()),
    )


def claim_types(
    *, ids: Sequence[str] = ("warranty", "damage", "inquiry")
) -> st.SearchStrategy[ClaimType]:
    """:class:`~b2bcore.claims.ClaimType` values with arbitrary lifecycles: any moves
    a lifecycle may list (always draft → submitted, and approved →
    resolution_in_progress when it has resolutions), each for one or both parties,
    some only within a few days; any evidence, resolutions and line sources; SLA
    targets for some priorities. Mixed with the standard types via
    ``st.one_of(claim_types(), st.sampled_from(standard_claim_types()))``."""
    return _claim_types(_pool(ids, "ids", allow_empty=False))


def warranties(
    *, min_value: date = date(2020, 1, 1), max_value: date = date(2040, 12, 31)
) -> st.SearchStrategy[Warranty]:
    """:class:`~b2bcore.assets.Warranty` values ending between the two dates."""
    return st.builds(
        Warranty,
        until=st.dates(min_value=min_value, max_value=max_value),
        terms=st.sampled_from(("", "2 years parts and labour", "Garantie 24 Monate")),
    )


@st.composite
def _assets(
    draw: st.DrawFn, company_ids: tuple[str, ...], skus: tuple[str, ...], units: tuple[str, ...]
) -> Asset:
    at = draw(aware_datetimes(min_value=datetime(2020, 1, 1, tzinfo=UTC),
                              max_value=datetime(2035, 1, 1, tzinfo=UTC)))  # fmt: skip
    installed = draw(st.one_of(st.none(), st.dates(min_value=date(2019, 1, 1),
                                                   max_value=date(2034, 12, 31))))  # fmt: skip
    warranty = draw(st.one_of(st.none(), warranties()))
    if warranty is not None and installed is not None and warranty.until < installed:
        warranty = attrs.evolve(warranty, until=installed)
    asset = Asset.register(
        asset_id=draw(identifiers(max_length=30)),
        company_id=draw(st.sampled_from(company_ids)),
        serial_number=draw(
            st.text(alphabet=_ID_REST + " ÄÖÜäöü#", min_size=1, max_size=40).filter(str.strip)
        ),
        sku=draw(st.sampled_from(skus)),
        registered_by=draw(st.sampled_from(("u-ben", "u-clara", "staff-sam"))),
        at=at,
        name=draw(st.sampled_from(("", "Pump hall 3", "Kompressor Süd"))),
        business_unit_id=draw(st.sampled_from((None, *units))),
        site=draw(st.sampled_from(("", "Leipzig, Halle 2"))),
        installed_on=installed,
        warranty=warranty,
        order_id=draw(st.one_of(st.none(), identifiers(max_length=30))),
        status=draw(st.sampled_from((AssetStatus.PENDING_VERIFICATION, AssetStatus.ACTIVE))),
    )
    if draw(st.booleans()):
        asset.decommission(at=at, by="u-ben", reason=draw(st.sampled_from(("", "scrapped"))))
    asset.pull_events()
    return asset


def assets(
    *,
    company_ids: Sequence[str] = ("acme", "globex"),
    skus: Sequence[str] = DEFAULT_CATALOG_SKUS,
    units: Sequence[str] = ("hq", "plant", "line"),
) -> st.SearchStrategy[Asset]:
    """:class:`~b2bcore.assets.Asset` values of ``company_ids`` for ``skus``: any
    serial number (trimmed, Unicode), sometimes installed, under warranty, bought
    with an order, verified or decommissioned. Draw several of one company with
    ``st.lists(..., unique_by=(lambda a: a.id, lambda a: a.serial_key))``."""
    return _assets(
        _pool(company_ids, "company_ids", allow_empty=False),
        _pool(skus, "skus", allow_empty=False),
        _pool(units, "units"),
    )


_DOCUMENT_MEDIA: Final = ("application/pdf", "image/png", "image/jpeg", "text/plain")


@st.composite
def _access_scopes(draw: st.DrawFn, platform: bool) -> AccessScope:
    if platform:
        return AccessScope.buyers_of(draw(st.sampled_from(DEFAULT_CATALOG_SKUS)))
    return draw(
        st.sampled_from(
            (
                AccessScope.company(),
                AccessScope.business_unit("plant"),
                AccessScope.role("approver"),
                AccessScope.buyers_of(DEFAULT_CATALOG_SKUS[0]),
            )
        )
    )


@st.composite
def _documents(draw: st.DrawFn, company_ids: tuple[str | None, ...]) -> Document:
    company = draw(st.sampled_from(company_ids))
    at = draw(aware_datetimes(min_value=datetime(2020, 1, 1, tzinfo=UTC),
                              max_value=datetime(2035, 1, 1, tzinfo=UTC)))  # fmt: skip
    count = draw(st.integers(min_value=1, max_value=3))
    versions = [
        DocumentVersion(
            number=n + 1,
            sha256=draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
            size=draw(st.integers(min_value=0, max_value=DEFAULT_MAX_SIZE)),
            media_type=draw(st.sampled_from(_DOCUMENT_MEDIA)),
            filename=draw(st.sampled_from(("manual.pdf", "Prüfbericht 2026.pdf", "crack.jpg"))),
            uploaded_at=at + timedelta(days=n),
            uploaded_by=draw(st.sampled_from(("u-ben", "staff-sam"))),
        )
        for n in range(count)
    ]
    kinds = (LinkKind.PRODUCT,) if company is None else tuple(LinkKind)
    links = draw(
        st.lists(
            st.builds(DocumentLink, st.sampled_from(kinds), identifiers(max_length=20)),
            max_size=3,
        )
    )
    return Document(
        id=draw(identifiers(max_length=30)),
        company_id=company,
        title=draw(st.sampled_from(("PX-9 manual", "Zertifikat", "Photo of the damage"))),
        kind=draw(st.sampled_from(tuple(DocumentKind))),
        access=draw(_access_scopes(company is None)),
        versions=versions,
        created_at=at,
        created_by=versions[0].uploaded_by,
        links=links,
        business_unit_id=None if company is None else draw(st.sampled_from((None, "line"))),
    )


def documents(
    *, company_ids: Sequence[str | None] = ("acme", "globex", None)
) -> st.SearchStrategy[Document]:
    """:class:`~b2bcore.documents.Document` values of ``company_ids`` (None: the
    seller's platform-wide documents, for the buyers of a product) with 1-3
    versions, links and any access scope that fits."""
    if isinstance(company_ids, str) or not isinstance(company_ids, (list, tuple)):
        raise ValidationError("must be a list of company ids", path="company_ids")
    if not company_ids:
        raise ValidationError("give at least one company id", path="company_ids")
    pool = tuple(None if c is None else check_id(c, path="company_ids") for c in company_ids)
    return _documents(pool)
