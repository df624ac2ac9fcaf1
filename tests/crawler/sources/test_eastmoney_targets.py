"""Eastmoney's target forms, and the generic resolution over the configured sources."""

from __future__ import annotations

import pytest

from crawler.sources import TargetError, report_key, resolve_target
from crawler.sources.eastmoney import EastmoneySource
from crawler.sources.eastmoney.targets import code_for

SOURCES = {"eastmoney": EastmoneySource.configure(dict(EastmoneySource.DEFAULTS), max_pages=1, where="test")}

CODE = "NW202202092271461775"


@pytest.mark.parametrize(
    "target",
    [
        CODE,
        CODE.lower(),
        "202202092271461775",
        f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode={CODE}",
        f"https://finews.zning.xyz/html_News/NewsShare.html?infocode={CODE}&from=timeline",
        "https://finance.eastmoney.com/a/202202092271461775.html",
        "http://finance.eastmoney.com/a/202202092271461775.html?from=timeline&utm_source=x#p2",
        "https://finance.eastmoney.com:443/a/202202092271461775_2.html",
        f"  {CODE}\n",
    ],
)
def test_every_form_names_the_same_code(target: str) -> None:
    assert code_for(target) == CODE
    assert resolve_target(target, SOURCES) == ("eastmoney", CODE)


@pytest.mark.parametrize(
    "target",
    ["", "NW123", "hello", "file:///etc/passwd", "javascript:alert(1)", "http://example.org/news/1.html", "ftp://h/a/202202092271461775.html"],
)
def test_non_targets_are_refused(target: str) -> None:
    with pytest.raises(TargetError):
        code_for(target)
    assert report_key(target, SOURCES) == target
