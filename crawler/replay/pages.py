"""Article pages for the replay (SPEC 5.3): both layouts, continuation pages and their noise.

Page ``n`` of ``k`` carries its share of the body blocks (images keep their captions, the
outlet line is on the last page); the date is shown without seconds.  Noise:

* current layout, inside ``div#ContentBody.txtinfos``: ``div.zwothers`` (原标题, some
  articles, page 1), ``div.ad_context_1`` with a script and ``img.em_handle_adv_close`` in
  its link (page 1), then on the last page an AI-assistant and an open-account promo
  paragraph (links to acttg.eastmoney.com), ``div.em_xuangu``, a "风险提示及免责条款"
  paragraph and ``div.editor``; beside it: the pager, ``div.statement`` (郑重声明) and the
  WeChat "打开微信 / 点击底部的“发现”" instructions; above it ``div.abstract`` (page 1).
* legacy layout, inside ``#ContentBody.Body``: ``div.zwothers``, ``div.ad_context_2``,
  then on the last page the two promos, ``div.em_xuangu``, the WeChat instructions, a
  "郑重声明" paragraph and ``p.res-edit`` (责任编辑); beside it the pager and ``div.risk``.
"""

from __future__ import annotations

from crawler.replay import corpus
from crawler.replay.generator import Block, Story
from crawler.replay.markup import attr, block_html, esc

AD_CLOSE = '<img class="em_handle_adv_close" src="https://z1.dfcfw.com/ad/close.png" alt="关闭">'


def digest(story: Story) -> str:
    """The first paragraph: what the lists show as digest or summary."""
    return next((b.text for b in story.blocks if b.kind == "p"), story.article.title)


def split_pages(story: Story) -> list[list[Block]]:
    """The body blocks of each page: units (an image with its caption, K-line blocks with the
    paragraph they precede) spread evenly, so that no page holds a chart and no text."""
    units: list[list[Block]] = []
    media: list[Block] = []
    charts: list[Block] = []
    for block in story.blocks:
        if block.kind == "media":
            media.append(block)
        elif block.kind == "kline":
            charts.append(block)
        elif units and not charts and (block.kind == "caption" or units[-1][-1].kind == "img"):
            units[-1].append(block)
        else:
            units.append([*charts, block])
            charts = []
    if charts:  # charts after every paragraph (never generated so) join the last unit
        if units:
            units[-1].extend(charts)
        else:
            units.append(charts)
    pages = max(1, story.article.pages)
    size, extra = divmod(len(units), pages)
    out: list[list[Block]] = []
    start = 0
    for n in range(pages):
        end = start + size + (n < extra)
        out.append([b for unit in units[start:end] for b in unit])
        start = end
    out[-1].extend(media)
    return out


def render_pages(story: Story, base_url: str) -> list[str]:
    """Every page of the article, page 1 first."""
    seen: set[str] = set()
    shares = split_pages(story)
    legacy = story.article.layout == "legacy"
    out = []
    for n, blocks in enumerate(shares, 1):
        body = [block_html(block, story, seen, page=True) for block in blocks]
        out.append((_legacy if legacy else _current)(story, n, len(shares), body, base_url))
    return out


def _date(story: Story) -> str:
    d = story.article.date
    return f"{d[:4]}年{d[5:7]}月{d[8:10]}日 {d[11:16]}"


def _ad(n: int) -> str:
    return (f'<div class="ad_context_{n}" id="ad_context_{n}"><script type="text/javascript">'
            f'window.emAdSlots = (window.emAdSlots || []).concat("zw_wz_{n}");</script>'
            f'<a href="https://acttg.eastmoney.com/pub/web_zw_ad_{n:02d}" target="_blank">'
            f'<img src="https://z1.dfcfw.com/ad/zw_wz_{n}.jpg" alt="">{AD_CLOSE}</a></div>')


def _promos(story: Story) -> list[str]:
    return [
        f'<p><a href="https://acttg.eastmoney.com/pub/web_zw_ai_01" target="_blank">{corpus.PROMO_AI}</a></p>',
        f'<p><a href="https://acttg.eastmoney.com/pub/web_zw_kh_01" target="_blank">{corpus.PROMO_ACCOUNT}</a></p>',
        (f'<div class="em_xuangu"><a href="https://xuangu.eastmoney.com/" target="_blank">'
         f'{corpus.XUANGU.format(board_name=esc(story.board_name))}</a></div>'),
    ]


def _pager(story: Story, n: int, k: int) -> str:
    if k == 1:
        return ""
    aid = story.article.id
    links = []
    for m in range(1, k + 1):
        name = f"{aid}.html" if m == 1 else f"{aid}_{m}.html"
        links.append(f'<span class="current">{m}</span>' if m == n else f'<a href="{name}">{m}</a>')
    if n < k:
        links.append(f'<a href="{aid}_{n + 1}.html" class="nextpage">下一页</a>')
    return f'<div class="pagerbox" id="pagerbox">{"".join(links)}</div>\n'


def _head(story: Story, base_url: str, charset: str) -> str:
    a = story.article
    return (f"<head>\n{charset}\n<title>{esc(a.title)}_东方财富网</title>\n"
            f'<meta name="keywords" content="{attr(story.board_name)}">\n'
            f'<meta name="description" content="{attr(digest(story))}">\n'
            f'<link rel="canonical" href="{attr(base_url)}/a/{a.id}.html">\n</head>\n')


def _content(story: Story, n: int, k: int, body: list[str], *, ad: int, ad_after: int, closing: list[str]) -> list[str]:
    """The blocks inside ``#ContentBody`` of page *n* of *k*: the 原标题 line and ad number *ad*
    (after *ad_after* body blocks) on page 1; promos and the layout's *closing* noise on the last."""
    inside: list[str] = []
    if n == 1 and story.original_title:
        inside.append(f'<div class="zwothers">原标题：{esc(story.original_title)}</div>')
    inside.extend(body)
    if n == 1:
        inside.insert(min(len(inside), ad_after + bool(story.original_title)), _ad(ad))
    if n == k:
        inside.extend(_promos(story))
        inside.extend(closing)
    return inside


def _current(story: Story, n: int, k: int, body: list[str], base_url: str) -> str:
    a = story.article
    outlet = esc(a.outlet) if story.bare_outlet else (
        f'来源：<a href="http://www.eastmoney.com/" target="_blank" rel="nofollow">{esc(a.outlet)}</a>')
    items = [f'<div class="item">{_date(story)}</div>', f'<div class="item">{outlet}</div>']
    if a.authors:
        items.append(f'<div class="item">作者：{esc(" ".join(a.authors))}</div>')
    items.append(f'<div class="item"><span class="num">{story.seq % 97}</span>评论</div>')
    closing = [f"<p>{corpus.RISK}</p>", f'<div class="editor">(责任编辑：{story.editor})</div>']
    inside = _content(story, n, k, body, ad=1, ad_after=2, closing=closing)
    abstract = (f'<div class="abstract"><div class="b-review">{corpus.ABSTRACT_LABEL}</div>'
                f'<div class="txt">{esc(digest(story))}</div></div>\n') if n == 1 else ""
    wechat = "".join(f"<p>{line}</p>" for line in corpus.WECHAT)
    return (
        "<!DOCTYPE html>\n<html>\n" + _head(story, base_url, '<meta charset="utf-8">') + "<body>\n"
        '<div class="topbar"><a href="http://www.eastmoney.com/">东方财富网首页</a> &gt; '
        '<a href="http://finance.eastmoney.com/">财经频道</a> &gt; 正文</div>\n'
        '<div class="main">\n<div class="contentwrap">\n'
        f'<div class="title">{esc(a.title)}</div>\n<div class="infos">{"".join(items)}</div>\n'
        f'{abstract}<div id="ContentBody" class="txtinfos">\n' + "\n".join(inside) + "\n</div>\n"
        + _pager(story, n, k)
        + f'<div class="statement">{corpus.STATEMENT}</div>\n'
        f'<div class="share-weixin">{wechat}</div>\n'
        "</div>\n</div>\n</body>\n</html>\n"
    )


def _legacy(story: Story, n: int, k: int, body: list[str], base_url: str) -> str:
    a = story.article
    byline = f'<div class="author">作者：{esc(" ".join(a.authors))}</div>' if a.authors else ""
    closing = [
        f"<p>{''.join(corpus.WECHAT)}</p>",
        f"<p>{corpus.STATEMENT}</p>",
        f'<p class="res-edit">(责任编辑：{story.editor})</p>',
    ]
    inside = _content(story, n, k, body, ad=2, ad_after=1, closing=closing)
    charset = '<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />'
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\n' + _head(story, base_url, charset) + "<body>\n"
        '<div class="mainFrame">\n<div class="main_left">\n<div class="newsContent">\n'
        f"<h1>{esc(a.title)}</h1>\n"
        f'<div class="time-source"><div class="time">{_date(story)}</div>'
        f'<div class="source" data-source="{attr(a.outlet)}">来源：{esc(a.outlet)}</div>{byline}</div>\n'
        '<div id="ContentBody" class="Body">\n' + "\n".join(inside) + "\n</div>\n"
        + _pager(story, n, k)
        + f'<div class="risk">{corpus.RISK}</div>\n'
        "</div>\n</div>\n</div>\n</body>\n</html>\n"
    )
