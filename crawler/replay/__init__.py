"""The replay of the source: a deterministic, offline stand-in for Eastmoney (SPEC 5.5).

``ReplayServer`` serves generated articles (and optional content-API fixture files) through
the content API, share shells, article pages and the five list kinds, on loopback, with
optional faults; ``run_replay`` is ``finews replay``.
"""

from __future__ import annotations

from crawler.replay.faults import KINDS as FAULT_KINDS
from crawler.replay.faults import Fault, parse_faults
from crawler.replay.generator import GeneratedArticle
from crawler.replay.run import run_replay, settings_snippet
from crawler.replay.server import SOURCE, ReplayServer, RequestRecord

__all__ = [
    "FAULT_KINDS",
    "SOURCE",
    "Fault",
    "GeneratedArticle",
    "ReplayServer",
    "RequestRecord",
    "parse_faults",
    "run_replay",
    "settings_snippet",
]
