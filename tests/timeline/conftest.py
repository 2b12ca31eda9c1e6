"""Timeline fixtures: the staging-like suite's reports, made once per session."""

from __future__ import annotations

import pytest

from tests.timeline.suite import SuiteReports


@pytest.fixture(scope="session")
def suite_reports(tmp_path_factory: pytest.TempPathFactory) -> SuiteReports:
    return SuiteReports(tmp_path_factory.mktemp("staging-suite"))
