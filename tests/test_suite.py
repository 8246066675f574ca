"""The suite's own guards: where .ci/run sets TAWASUL_REQUIRE_SERVICES=1, a missing
browser package fails the run instead of quietly skipping the browser tests."""
import sys

import pytest

from tests import conftest


@pytest.mark.parametrize("required, outcome", [(True, pytest.fail.Exception), (False, pytest.skip.Exception)])
def test_a_missing_playwright_fails_where_services_are_required(monkeypatch, required, outcome):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # as if it were not installed
    monkeypatch.setattr(conftest, "REQUIRE_SERVICES", required)
    with pytest.raises(outcome, match="playwright"):
        conftest.need_playwright()


def test_the_browser_tests_get_playwright_where_it_is_installed():
    pytest.importorskip("playwright")
    assert conftest.need_playwright().sync_playwright
