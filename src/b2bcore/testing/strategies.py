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
from datetime import UTC, datetime, tzinfo
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
from b2bcore.clock import require_aware
from b2bcore.errors import ValidationError
from b2bcore.ids import (
    BusinessUnitId,
    CategoryId,
    CompanyId,
    PriceListId,
    ProductId,
    Sku,
    UserId,
    check_id,
)
from b2bcore.l10n import get_zone
from b2bcore.money import Money, RoundingMode, is_currency, minor_units, to_decimal
from b2bcore.pricing.cart import CartLineInput
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

__all__ = [
    "DEFAULT_CATALOG_CATEGORIES",
    "DEFAULT_CATALOG_SKUS",
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
    "DEFAULT_TIMEZONES",
    "UNROUNDED_EXTRA_PLACES",
    "assortments",
    "aware_datetimes",
    "business_unit_trees",
    "carts",
    "catalogs",
    "category_trees",
    "companies",
    "company_users",
    "currencies",
    "decimals_for",
    "emails",
    "formulas",
    "identifiers",
    "money",
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
    "rule_targets",
    "selections",
    "stock_levels",
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
