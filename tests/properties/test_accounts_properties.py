"""Hypothesis properties of the accounts tree rules, using b2bcore.testing.strategies."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from b2bcore.accounts import BusinessUnit, CompanyUser
from b2bcore.accounts.rules import ancestors, check_tree, descendants
from b2bcore.errors import ValidationError
from b2bcore.testing.strategies import business_unit_trees, company_users


def _chain(units: list[BusinessUnit], unit_id: str) -> list[str]:
    """Reference: the parent chain above ``unit_id``, by walking parent pointers."""
    by_id: dict[str, BusinessUnit] = {u.id: u for u in units}
    out: list[str] = []
    parent = by_id[unit_id].parent_id
    while parent is not None:
        out.append(parent)
        parent = by_id[parent].parent_id
    return out


@given(business_unit_trees())
def test_generated_trees_are_valid_forests(units: list[BusinessUnit]) -> None:
    check_tree(units)
    assert units[0].parent_id is None
    assert len({u.id for u in units}) == len(units)
    assert len({u.company_id for u in units}) == 1
    seen: set[str] = set()
    for unit in units:
        assert unit.parent_id is None or unit.parent_id in seen  # parents come first
        seen.add(unit.id)


@given(business_unit_trees(company_id="acme", min_size=0, max_size=3))
def test_trees_honour_company_and_sizes(units: list[BusinessUnit]) -> None:
    assert len(units) <= 3
    assert all(u.company_id == "acme" for u in units)
    check_tree(units)


@given(business_unit_trees(min_size=2), st.data())
def test_reparenting_under_own_descendant_is_a_cycle(
    units: list[BusinessUnit], data: st.DataObject
) -> None:
    children = [u for u in units if u.parent_id is not None]
    assume(children)
    below = data.draw(st.sampled_from(children), label="new parent")
    moved_id = data.draw(st.sampled_from(_chain(units, below.id)), label="moved unit")
    moved = [attrs.evolve(u, parent_id=below.id) if u.id == moved_id else u for u in units]
    with pytest.raises(ValidationError) as info:
        check_tree(moved)
    loop = info.value.value
    assert isinstance(loop, list)
    assert moved_id in loop
    assert below.id in loop


@given(business_unit_trees(min_size=2), st.data())
def test_reparenting_outside_own_subtree_keeps_a_forest(
    units: list[BusinessUnit], data: st.DataObject
) -> None:
    moved = data.draw(st.sampled_from(units), label="moved unit")
    outside = [u.id for u in units if u.id not in descendants(units, moved.id)]
    assume(outside)
    new_parent = data.draw(st.sampled_from(outside), label="new parent")
    check_tree([attrs.evolve(u, parent_id=new_parent) if u is moved else u for u in units])


@given(business_unit_trees(), st.data())
def test_descendants_are_exactly_the_units_below(
    units: list[BusinessUnit], data: st.DataObject
) -> None:
    root = data.draw(st.sampled_from(units), label="root").id
    expected = {u.id for u in units if u.id == root or root in _chain(units, u.id)}
    assert descendants(units, root) == expected


@given(business_unit_trees())
def test_ancestors_match_the_parent_chain(units: list[BusinessUnit]) -> None:
    for unit in units:
        assert ancestors(units, unit.id) == _chain(units, unit.id)


@given(
    business_unit_trees(max_size=5).flatmap(
        lambda units: st.tuples(
            st.just(units), company_users(units[0].company_id, [u.id for u in units])
        )
    )
)
def test_generated_users_belong_to_units_of_their_company(
    case: tuple[list[BusinessUnit], CompanyUser],
) -> None:
    units, user = case
    assert user.company_id == units[0].company_id
    assert user.business_unit_ids
    assert set(user.business_unit_ids) <= {u.id for u in units}
    assert len(set(user.business_unit_ids)) == len(user.business_unit_ids)
