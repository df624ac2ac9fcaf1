from __future__ import annotations

import pytest

from crawler.targets import TargetError, code_for, report_key

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


@pytest.mark.parametrize(
    "target",
    ["", "NW123", "hello", "file:///etc/passwd", "javascript:alert(1)", "http://example.org/news/1.html", "ftp://h/a/202202092271461775.html"],
)
def test_non_targets_are_refused(target: str) -> None:
    with pytest.raises(TargetError):
        code_for(target)
    assert report_key(target) == target
