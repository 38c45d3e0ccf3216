"""The provider contract's old import path, ``providers.*``, kept for one release.

crm-cli 0.1 installed its providers as a top-level ``providers`` package, so a
plug-in may still say ``from providers.base import ProviderInfo``. From 0.2 the
contract is ``crm_cli.providers.base`` (and ``crm_cli.providers.client``); until
0.3 the old names resolve to the same modules, with a DeprecationWarning.

Another installed package that really is called ``providers`` always wins:
this finder answers only when no such package exists, or when the one found
is this very folder (a source checkout on sys.path).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from pathlib import Path
from types import ModuleType

OLD, NEW = "providers", "crm_cli.providers"
_HERE = Path(__file__).resolve().parent


class _LegacyProviders(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None):
        if fullname == OLD:
            found = importlib.machinery.PathFinder.find_spec(OLD)
            if found is not None and not _is_this_folder(found):
                return None  # somebody else's package named "providers"
        elif not fullname.startswith(OLD + ".") or not _aliased(sys.modules.get(OLD)):
            return None
        real = importlib.util.find_spec(NEW + fullname[len(OLD) :])
        if real is None:
            return None
        spec = importlib.util.spec_from_loader(
            fullname, self, is_package=real.submodule_search_locations is not None
        )
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        if spec.name == OLD:
            warnings.warn(
                "import crm_cli.providers instead of providers (the old path goes in 0.3)",
                DeprecationWarning,
                stacklevel=2,
            )
        module = importlib.import_module(NEW + spec.name[len(OLD) :])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped the alias's spec on the real module: put its own back.
        module.__spec__ = module.__spec__.loader_state


def _is_this_folder(spec: importlib.machinery.ModuleSpec) -> bool:
    return any(Path(p).resolve() == _HERE for p in spec.submodule_search_locations or ())


def _aliased(module: ModuleType | None) -> bool:
    return module is not None and module.__name__ == NEW


def install() -> None:
    """Put the finder first on sys.meta_path, once (it declines everything but ``providers``)."""
    if not any(isinstance(f, _LegacyProviders) for f in sys.meta_path):
        sys.meta_path.insert(0, _LegacyProviders())
