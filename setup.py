"""Installs the repository's top-level ``providers/`` and ``migrations/`` folders
inside the ``crm_cli`` package, as ``crm_cli.providers`` and ``crm_cli.migrations``.

The tree keeps the layers visible (crm_cli/, providers/, migrations/) while the
installed package claims a single import name: a top-level ``providers`` or
``migrations`` in site-packages would collide with any other package so named.
Everything else is declared in setup.cfg.
"""

from setuptools import find_packages, setup

MOUNTED = {"crm_cli.providers": "providers", "crm_cli.migrations": "migrations"}


def _mounted(package: str, folder: str) -> list[str]:
    return [package] + [f"{package}.{sub}" for sub in find_packages(folder)]


setup(
    package_dir={"crm_cli": "crm_cli", **MOUNTED},
    packages=find_packages(include=["crm_cli", "crm_cli.*"])
    + [name for package, folder in MOUNTED.items() for name in _mounted(package, folder)],
)
