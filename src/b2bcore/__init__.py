"""b2bcore: an embeddable, framework-free domain library for B2B aftersales portals.

The package root only carries the version; import what you need from the modules
(``b2bcore.money``, ``b2bcore.accounts``, ``b2bcore.portal``, ``b2bcore.storage`` ...).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("b2bcore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
