from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINEWS_CONFIG", raising=False)
    config = load_config()
    assert config.path is None
    assert config.base_url == "//finews.withounder.com"
    assert config.database_url == f"sqlite:///{tmp_path}/finews.db"
    assert [lst.kind for lst in config.sources["eastmoney"].lists] == ["fastnews", "columns"]
    assert config.crawl.retries == 3


def test_default_sources_are_eastmoneys_own_hosts_over_https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINEWS_CONFIG", raising=False)
    source = load_config().sources["eastmoney"]
    urls = [*source.templates.values(), *(lst.url for lst in source.lists)]
    for url in urls:
        parts = urlsplit(url)
        assert parts.scheme == "https" and (parts.hostname or "").endswith(".eastmoney.com"), url
    rolling = source.lists[0]
    assert (rolling.kind, rolling.category, rolling.tag) == ("fastnews", "emnews", "东财滚动新闻")
    assert "fastColumn=102" in rolling.url  # the original's type=102 rolling news


def test_repository_settings_file_names_the_code_defaults_of_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINEWS_CONFIG", raising=False)
    repository = load_config(Path(__file__).resolve().parents[2] / "settings.yaml").sources["eastmoney"]
    default = load_config().sources["eastmoney"]
    assert (repository.templates, repository.lists) == (default.templates, default.lists)


def test_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "site:\n  base_url: https://example.org/\ncrawl: {delay: 0}\n"))
    assert config.base_url == "https://example.org"
    assert config.site_dir == tmp_path / "site"
    assert config.crawl.delay == 0.0
    assert config.crawl.concurrency == 8
    assert config.sources["eastmoney"].templates["article_page"] == "https://finance.eastmoney.com/a/{id}.html"


def test_env_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINEWS_CONFIG", str(write(tmp_path, "database: {url: 'sqlite:///x/y.db'}\n")))
    assert load_config().database_url == f"sqlite:///{tmp_path}/x/y.db"


def test_repository_settings_file_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "settings.yaml")
    assert config.categories == {"科技日报": "kejiribao"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("site: {dirr: x}\n", "unknown key 'site.dirr'"),
        ("bogus: 1\n", "unknown key 'bogus'"),
        ("crawl: {delay: -1}\n", "crawl.delay must be at least 0"),
        ("crawl: {retries: 1.5}\n", "crawl.retries must be a whole number"),
        ("crawl: {retries: yes}\n", "crawl.retries must be a whole number"),
        ("database: {url: 'mysql://x'}\n", "database.url must be sqlite or postgresql"),
        ("database: {url: 'not a url'}\n", "database.url is not a database URL"),
        ("sources: {eastmoney: {content_api: 'http://h/x'}}\n", "content_api must contain {code}"),
        ("sources: {eastmoney: {article_page: 'ftp://h/{id}'}}\n", "article_page must be an http(s) URL"),
        ("sources: {eastmoney: {lists: [{kind: rss, url: 'http://h/'}]}}\n", "lists[0].kind must be one of"),
        ("sources: {eastmoney: {lists: [{kind: records, url: 'http://h/', pages: 2}]}}\n", "unknown key sources.eastmoney.lists[0].pages"),
        ("sources: {eastmoney: {lists: [{kind: records, url: 'http://h/', category: 'Bad Slug'}]}}\n", "category must be a slug"),
        ("categories: {科技日报: 'ke ji'}\n", "categories.科技日报 must be a slug"),
        ("redis: {url: 'http://x'}\n", "redis.url must be a redis:// URL"),
        ("redis: {url: 'redis://127.0.0.1:6379/0'}\n", "redis.url (distributed mode) needs a PostgreSQL database.url"),
        ("redis: {prefix: 'a b'}\n", "redis.prefix must be 1 to 64 letters"),
        ("redis: {max_outage: soon}\n", "redis.max_outage: expected a duration"),
        ("site: [1]\n", "site must be a mapping"),
        ("site: {dir: [\n", "not valid YAML"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file"):
        load_config(tmp_path / "nope.yaml")


def test_hosts_are_the_template_hosts(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "sources: {eastmoney: {content_api: 'http://127.0.0.1:81/x?id={code}', "
                                         "article_page: 'http://127.0.0.1:82/a/{id}.html', lists: []}}\n"))
    assert config.sources["eastmoney"].hosts() == {"127.0.0.1:81", "127.0.0.1:82"}


def test_distributed_mode_with_postgresql(tmp_path: Path) -> None:
    path = write(tmp_path, "database: {url: 'postgresql+psycopg://postgres@127.0.0.1/finews'}\n"
                           "redis: {url: 'redis://127.0.0.1:6379/3', prefix: news-a, max_outage: 30s}\n")
    config = load_config(path)
    assert (config.redis_url, config.redis_prefix, config.redis_max_outage) == ("redis://127.0.0.1:6379/3", "news-a", 30.0)
    assert load_config(write(tmp_path, "site: {dir: s}\n")).redis_url is None


def test_a_run_does_not_import_the_disabled_remote_control(tmp_path: Path) -> None:
    """Scrapy's remote control is off; listed as None it is not even imported (aiohttp's web server)."""
    probe = ("import sys\n"
             "from scrapy.utils.conf import build_component_list\n"
             "from scrapy.utils.misc import load_object\n"
             "from crawler.cli.run import project_settings\n"
             "from crawler.config import load_config\n"
             "settings = project_settings(load_config(sys.argv[1]))\n"
             "for name in build_component_list(settings.getwithbase('EXTENSIONS')):\n"  # as Scrapy's ExtensionManager loads them
             "    load_object(name)\n"
             "print('scrapy.extensions.remote_control' in sys.modules)\n")
    path = write(tmp_path, "")
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", probe, str(path)], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(root)}, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
