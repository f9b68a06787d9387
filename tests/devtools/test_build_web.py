"""The web page's generated files (devtools/build_web.py)."""

from __future__ import annotations

import pytest

from advisor.contract import REASONS, STEPS, TOPICS
from devtools import build_web


def test_google_fonts_import_is_stripped() -> None:
    bundle = 't.push([e.i,"@import url(https://fonts.googleapis.com/css?family=Inter:400,500,700&display=swap);",""]),.rw-x{font-family:Inter,sans-serif}'
    stripped = build_web.strip_font_imports(bundle)
    assert "googleapis" not in stripped and "@import" not in stripped
    assert stripped == 't.push([e.i,"",""]),.rw-x{font-family:Inter,sans-serif}'


def test_other_remote_css_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_web.strip_font_imports('"@import url(https://cdn.example/x.css);"')


def test_labels_cover_every_contract_code() -> None:
    labels = build_web.advice_labels()
    assert set(TOPICS) <= set(labels["topics"])
    assert set(REASONS) <= set(labels["reasons"])
    assert set(STEPS) <= set(labels["steps"])
    assert all(entry["title"] for entry in [*labels["reasons"].values(), *labels["steps"].values()])
    assert "{path}" in labels["render"]["path"]


def test_socket_url_is_checked() -> None:
    assert build_web.checked_socket_url("http://localhost:5005/") == "http://localhost:5005"
    for bad in ("javascript:alert(1)", "ws://localhost:5005", "http://localhost:5005/x", "localhost:5005"):
        with pytest.raises(SystemExit):
            build_web.checked_socket_url(bad)


def test_vendored_widget_loads_nothing_remote() -> None:
    bundle = build_web.build_vendor().read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in bundle and "fonts.gstatic.com" not in bundle


def test_labels_carry_each_step_s_wording_by_situation_as_the_text_has_it() -> None:
    from advisor.render import step_text
    from advisor.situation import FACT_WORDINGS, SITUATIONS

    labels = build_web.advice_labels()["steps"]
    for code, label in labels.items():
        for situation in SITUATIONS + FACT_WORDINGS:
            variant = label["variants"].get(situation, {})
            wanted = step_text(code, situation)
            assert variant.get("title", label["title"]) == wanted["title"], (code, situation)
            assert variant.get("detail", label.get("detail", "")) == wanted["detail"], (code, situation)
            assert variant.get("path", label.get("path", "")) == wanted["path"], (code, situation)
