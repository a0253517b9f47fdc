"""``reserve_stock`` with the levels its caller read, ``StoredCatalog.preload``, and
``PricingService.cached_index``: what they take, and bad input refused with a
ValidationError that changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b2bcore.catalog import Category, Product, StockLevel
from b2bcore.catalog.inventory import reserve_stock
from b2bcore.catalog.stored import StoredCatalog
from b2bcore.clock import FixedClock
from b2bcore.errors import ValidationError
from b2bcore.ids import Sku
from b2bcore.money import Money
from b2bcore.portal import Portal
from b2bcore.storage.memory import MemoryStore
from tests.unit.orders.conftest import NOW

SKU = Sku("SEAL-7")


def _store() -> MemoryStore:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.stock_levels.add(StockLevel(sku=SKU, location="leipzig", on_hand=3))
        uow.stock_levels.add(StockLevel(sku=SKU, location="berlin", on_hand=2))
        uow.stock_levels.add(StockLevel(sku="PUMP-1", location="leipzig", on_hand=1))
        uow.categories.add(Category(id="seals", name="Seals"))
        uow.products.add(
            Product(sku=SKU, name="Seal", category_id="seals", list_price=Money("1.00", "EUR"))
        )
        uow.commit()
    return store


def _reserved(store: MemoryStore) -> list[tuple[str, Decimal]]:
    with store.unit_of_work() as uow:
        return [(lv.location, lv.reserved) for lv in uow.stock_levels.for_sku(SKU)]


def test_reserving_from_levels_read_before_equals_reading_them_again() -> None:
    given_levels, read_again = _store(), _store()
    with given_levels.unit_of_work() as uow:
        levels = uow.stock_levels.for_sku(SKU)
        made = reserve_stock(
            uow, company_id="acme", sku=SKU, quantity=4, reference="o-1", at=NOW, levels=levels
        )
        uow.commit()
    with read_again.unit_of_work() as uow:
        again = reserve_stock(uow, company_id="acme", sku=SKU, quantity=4, reference="o-1", at=NOW)
        uow.commit()
    assert [(r.location, r.quantity) for r in made] == [(r.location, r.quantity) for r in again]
    assert (
        _reserved(given_levels)
        == _reserved(read_again)
        == [
            ("berlin", Decimal(2)),
            ("leipzig", Decimal(2)),
        ]
    )


BAD_LEVELS = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), min_size=1, max_size=3),
    st.just([StockLevel(sku="PUMP-1", location="leipzig", on_hand=1)]),  # another SKU's
    st.just({"leipzig": 3}),
)


@given(levels=BAD_LEVELS)
def test_levels_that_are_not_the_skus_own_are_refused(levels: object) -> None:
    store = _store()
    with store.unit_of_work() as uow, pytest.raises(ValidationError) as e:
        reserve_stock(
            uow,
            company_id="acme",
            sku=SKU,
            quantity=1,
            reference="o-1",
            at=NOW,
            levels=levels,  # type: ignore[arg-type]
        )
    assert e.value.path == "levels"
    assert _reserved(store) == [("berlin", Decimal(0)), ("leipzig", Decimal(0))]


@given(skus=st.one_of(st.integers(), st.text(max_size=4), st.lists(st.integers(), min_size=1)))
def test_preload_refuses_what_is_not_skus(skus: object) -> None:
    with _store().unit_of_work() as uow, pytest.raises(ValidationError):
        StoredCatalog(uow, read_only=True).preload(skus)  # type: ignore[arg-type]


def test_preload_reads_products_and_their_categories() -> None:
    with _store().unit_of_work() as uow:
        catalog = StoredCatalog(uow, read_only=True)
        catalog.preload([SKU, "NOPE", SKU])
        product = catalog.product(SKU)
        assert product is not None
        assert product.name == "Seal"
        assert catalog.product("NOPE") is None
        category = catalog.category("seals")
        assert category is not None
        assert category.name == "Seals"


@given(currency=st.one_of(st.integers(), st.lists(st.text()), st.none()))
def test_cached_index_refuses_what_is_not_a_currency_code(currency: object) -> None:
    portal = Portal(MemoryStore(), clock=FixedClock(NOW))
    with pytest.raises(ValidationError):
        portal.pricing.cached_index(currency)  # type: ignore[arg-type]
    assert portal.pricing.cached_index("EUR") is None
