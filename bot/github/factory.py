"""Gateways per GitHub App installation: the process-wide one and one per delivery's."""

from __future__ import annotations

import threading
from collections import OrderedDict

from bot.config import Settings
from bot.github.auth import TIMEOUT_S, credentials
from bot.github.gateway import make_gateway
from bot.ports.github import GitHubGateway

# Installations a bot serves are few; the bound only stops an unbounded cache.
MAX_CACHED = 64


class GatewayFactory:
    """Hand out the process-wide gateway and, with App auth, one gateway per installation."""

    def __init__(
        self, settings: Settings, *, timeout: int = TIMEOUT_S, max_cached: int = MAX_CACHED
    ) -> None:
        self._settings = settings
        self._timeout = timeout
        self._max_cached = max_cached
        self.gateway, self.dry_run = make_gateway(settings, timeout=timeout)
        creds = None if self.dry_run else credentials(settings)
        self._app = creds is not None and creds.kind == "app"
        self._cache: OrderedDict[int, GitHubGateway] = OrderedDict()
        self._lock = threading.Lock()

    def for_installation(self, installation_id: int | None) -> GitHubGateway:
        """Return the gateway acting as `installation_id`; the process-wide one without App auth."""
        if (
            installation_id is None
            or not self._app
            or installation_id == self._settings.github_app_installation_id
        ):
            return self.gateway
        with self._lock:
            gateway = self._cache.get(installation_id)
            if gateway is None:
                gateway, _ = make_gateway(
                    self._settings, installation_id=installation_id, timeout=self._timeout
                )
                self._cache[installation_id] = gateway
                if len(self._cache) > self._max_cached:
                    # Dropped, not closed: a delivery being processed may still hold it.
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(installation_id)
            return gateway

    def cached(self) -> list[int]:
        """List the installations that have a gateway of their own, oldest use first."""
        with self._lock:
            return list(self._cache)
