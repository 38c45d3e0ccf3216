"""Deprecated: the client's contract is ``crm_cli.providers.contract`` (this path goes in 0.4).

A plug-in written for crm-cli 0.2 imports ``Pacer`` and ``TokenStore`` from here;
they are the same classes, with a DeprecationWarning.
"""

from __future__ import annotations

import warnings

from crm_cli.providers.contract import Pacer, TokenStore

__all__ = ["Pacer", "TokenStore"]

warnings.warn(
    "import Pacer and TokenStore from crm_cli.providers.contract instead of "
    "crm_cli.engine.contract (the old path goes in 0.4)",
    DeprecationWarning,
    stacklevel=2,
)
