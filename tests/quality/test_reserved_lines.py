"""Issue 33, point 4: ATEC lines 21000–21999, 26000–26999, 29000–29999 and 38000–39346 are kept
for evaluation by others; nothing the project trains, tests or reviews on may cite one."""

from __future__ import annotations

from pathlib import Path

import pytest

from quality.atec import cited_lines, cited_ranges, is_reserved, overlaps_reserved
from runtime.paths import ROOT

# Everything that holds labelled messages: training data, test sets, review candidates.
LABELLED = sorted(
    p
    for folder in ("data", "tests", "review")
    if (ROOT / folder).is_dir()
    for p in (ROOT / folder).rglob("*")
    if p.suffix in {".yml", ".yaml", ".csv", ".json", ".md"} and "output" not in p.parts
)


def test_the_scan_sees_the_cited_data():
    cited = [line for p in LABELLED for line in cited_lines(p.read_text(encoding="utf-8"))]
    # The training data and both real-user test sets cite thousands of lines; an empty scan
    # would mean the citation format changed and this test no longer protects anything.
    assert len(cited) > 6000
    assert any(p.name == "real_phrasing.yml" for p in LABELLED)


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reserved_line_is_cited(path: Path):
    text = path.read_text(encoding="utf-8")
    assert [line for line in cited_lines(text) if is_reserved(line)] == []
    assert [r for r in cited_ranges(text) if overlaps_reserved(*r)] == []


@pytest.mark.parametrize(
    "source, reserved",
    [
        ("ATEC atec_nlp_sim_train.csv line 21000, sentence 1", True),
        ("atec_nlp_sim_train.csv, line 39346, sentence 2", True),
        ("https://x/atec_nlp_sim_train.csv#L26500", True),
        ("ATEC atec_nlp_sim_train.csv line 29999, sentence 1", True),
        ("ATEC atec_nlp_sim_train.csv line 20999, sentence 1", False),
        ("atec_nlp_sim_train.csv, line 37999, sentence 1", False),
        ("ATEC atec_nlp_sim_train.csv line 39347, sentence 1", False),
    ],
)
def test_a_citation_of_a_reserved_line_is_caught(source: str, reserved: bool):
    assert [is_reserved(line) for line in cited_lines(source)] == [reserved]


def test_a_range_touching_a_reserved_block_is_caught():
    header = "# ATEC lines 20000-20999 and 25500–26100 read in full"
    assert [overlaps_reserved(*r) for r in cited_ranges(header)] == [False, True]
