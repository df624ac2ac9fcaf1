"""Eastmoney's noise (SPEC §5.1, §5.3): quote widgets, K-line images, promos, share and editor lines."""

from __future__ import annotations

from crawler.sources.noise import NoiseRules

# Call-to-action phrases of the open-account / app / AI-assistant promos.  Deliberately not
# bare "开户", "手机开户", "AI助手" or "东方财富APP": "券商手机开户占比提升" or "某公司发布AI助手" are news.
PROMO_PHRASES = (
    "东方财富证券开户", "东方财富证券手机开户", "一站式开户", "免费开户", "立即开户",
    "极速开户", "一键开户", "点击开户", "开户福利", "在东方财富看资讯行情",
    "下载东方财富APP", "问问妙想", "立即免费体验",
)
# The WeChat share instructions, whole or split over two lines; not bare "扫一扫".
QR_MARKERS = (
    "打开微信", "点击底部的“发现”", '点击底部的"发现"', "使用“扫一扫”", '使用"扫一扫"',
    "分享至朋友圈",
)

NOISE = NoiseRules(
    drop_selector=", ".join([
        'span[id^="quote_"]', ".em_xuangu", ".statement", ".editor", "div.zwothers",
        "p.res-edit", ".b-review",
    ]),
    ad_class_prefixes=("ad_context",),  # div.ad_context, ad_context_1, …
    ad_close_images="img.em_handle_adv_close",
    promo_hosts=("acttg.eastmoney.com",),  # account-opening / campaign landing pages
    cut_between=(("EM_StockImg_Start", "EM_StockImg_End"),),  # K-line blocks
    unwrap_selector=", ".join([
        'span[id^="stock_"]', "a.keytip", "span.em_stock_key_common", 'span[id^="bk_"]',
        'span[id^="Info."]', "a.infokey", "a[data-code]",
    ]),
    quote_hosts=("quote.eastmoney.com", "data.eastmoney.com"),
    promo_phrases=PROMO_PHRASES,
    short_block_markers=PROMO_PHRASES + QR_MARKERS,
    disclaimer_prefixes=("郑重声明", "风险提示及免责条款", "免责声明", "市场有风险，投资需谨慎"),
    editor_pattern=r"^[（(]?\s*(责任编辑|编辑)[:：]",
)
