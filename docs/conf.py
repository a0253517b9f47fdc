"""Sphinx configuration for the b2bcore documentation.

Built by ``make docs`` with ``-W --keep-going -n``: every warning, including every
cross-reference that does not resolve, fails the build. The package is installed
in editable mode, so autodoc imports it without any ``sys.path`` tricks. The build
needs no network (no intersphinx inventories are fetched).
"""

from __future__ import annotations

import sys
from importlib.metadata import version as _version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from docutils.nodes import Element
    from sphinx.addnodes import pending_xref
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

project = "b2bcore"
author = "the b2bcore developers"
copyright = "2026, the b2bcore developers"
release = _version("b2bcore")
version = ".".join(release.split(".")[:2])

# Docstrings are reStructuredText (roles, ``literals``, ``>>>`` examples), so
# sphinx.ext.napoleon is not loaded: no docstring uses Google or NumPy sections, and
# napoleon would read an attribute comment such as ``#: The roles: (id, name)`` as
# "type: description" and make "The roles" an unresolvable class reference.
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# -- MyST ---------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "fieldlist"]
myst_heading_anchors = 3

# -- autodoc ------------------------------------------------------------------------
autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options: dict[str, object] = {}

# -- nitpicky references ------------------------------------------------------------
# ``-n`` makes every unresolved reference a warning. The build is offline (no
# intersphinx inventories), so references into the standard library and third-party
# packages cannot resolve; they are listed here, by package. References into b2bcore
# itself must resolve: fix the docstring rather than adding b2bcore names below.
_STDLIB = (
    r"decimal|datetime|enum|fractions|collections\.abc|typing|types|zoneinfo|pathlib|os|sqlite3"
)
_THIRD_PARTY = r"attr|attrs|cattrs|babel|hypothesis|pytest|_pytest"
nitpick_ignore_regex = [
    (r"py:(class|obj|exc|func|meth|attr|data|mod)", rf"({_STDLIB})(\.\w+)*"),
    (r"py:(class|obj|exc|func|meth|attr|data|mod)", rf"({_THIRD_PARTY})(\.\w+)*"),
    # Type variables (single capital letters by convention) have no page of their own.
    (r"py:(class|obj)", r"b2bcore\.[\w.]+\.[A-Z]"),
    # Private implementation names (a leading underscore) that appear in public
    # signatures, such as the shared base class of the adapters' units of work.
    (r"py:(class|obj)", r"(b2bcore\.[\w.]+\.)?_\w+(\.\w+)*"),
    # A Literal alias of b2bcore.storage.sqlite that autodoc shows by its bare name.
    (r"py:class", r"Synchronous"),
    # decimal.Decimal as autodoc prints it bare in some signatures (stdlib, offline).
    (r"py:class", r"Decimal"),
]


def _resolve_reexport(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Element
) -> Element | None:
    """Resolve ``b2bcore.accounts.Company`` to ``b2bcore.accounts.model.Company``.

    Contexts re-export their public names (``from b2bcore.accounts import Company``
    is the import to use), but autodoc documents each object once, where it is
    defined. This lets docstrings and pages refer to either spelling, and a package's
    docstring refer to its re-exported names unqualified (``:func:`authorize```).
    """
    if node.get("refdomain") != "py":
        return None
    target = str(node.get("reftarget", ""))
    if not target.startswith("b2bcore."):
        module = node.get("py:module")
        if not module or "." in target:
            return None
        target = f"{module}.{target}"
    parts = target.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:cut])
        module = sys.modules.get(module_name)
        if module is None:
            continue
        name, rest = parts[cut], parts[cut + 1 :]
        obj = getattr(module, name, None)
        home = getattr(obj, "__module__", None)
        if obj is None or not isinstance(home, str) or home == module_name:
            return None
        canonical = ".".join([home, getattr(obj, "__qualname__", name), *rest])
        domain = env.get_domain("py")
        return domain.resolve_xref(
            env, node["refdoc"], app.builder, node["reftype"], canonical, node, contnode
        )
    return None


def setup(app: Sphinx) -> None:
    """Register the re-export resolver."""
    app.connect("missing-reference", _resolve_reexport)


# -- HTML ---------------------------------------------------------------------------
html_theme = "furo"
html_title = f"b2bcore {release}"
html_static_path: list[str] = []
