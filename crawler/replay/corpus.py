"""Word lists from which the replay writes its articles, and its noise (templates: topics.py).

Data only.  Every company here is fictional (the stock codes only give the markup a
realistic shape); boards, data keywords and outlets are real names, because readers of
the replay's pages expect them.  Template slots: ``{co}``/``{co2}`` stock mentions,
``{board}`` a board mention, ``{kw}`` a data keyword, ``{peers}`` three to six more stock
mentions joined by 、; ``{co_name}``, ``{co2_name}``,
``{board_name}``, ``{kw_name}`` the same names as plain text; ``{product}``, ``{city}``,
``{period}``, ``{year}``, ``{md}`` (the article's day) and ``{month}`` (the month before
it); numbers drawn anew at each use: ``{pct}``, ``{chg}`` (a day's move), ``{ipct}`` (an
index move), ``{pe}``, ``{few}``, ``{turnover}``, ``{amt}``, ``{small}``, ``{int}``, ``{price}``,
``{index}``, and the words ``{move}``, ``{move_title}``, ``{credit}`` (an image credit).
"""

from __future__ import annotations

# (name, market, code, board index) — market 0/1 = Shenzhen/Shanghai, 116 = HK, 105/106 = US
COMPANIES: tuple[tuple[str, str, str, int], ...] = (
    ("华辰科技", "0", "301286", 9),
    ("东岳新能源", "1", "603817", 12),
    ("瑞丰医药", "0", "002957", 5),
    ("海川银行", "1", "601577", 2),
    ("中联智造", "1", "688362", 0),
    ("天衡证券", "1", "601696", 3),
    ("北辰光电", "0", "300946", 0),
    ("长青食品", "0", "002861", 11),
    ("嘉禾电力", "1", "600983", 6),
    ("远航物流", "0", "002930", 10),
    ("恒信半导体", "1", "688415", 0),
    ("金石矿业", "1", "603993", 7),
    ("星河传媒", "0", "300987", 15),
    ("蓝海化工", "1", "603279", 14),
    ("宏达汽车", "0", "002976", 8),
    ("鼎新软件", "0", "300812", 9),
    ("安和保险", "1", "601319", 13),
    ("云峰控股", "116", "02618", 9),
    ("星途汽车", "106", "XTAU", 8),
    ("极光云", "105", "AURC", 9),
    ("青川酒业", "0", "000869", 4),
    ("卓越锂能", "0", "300919", 1),
    ("港联医疗", "116", "01873", 5),
    ("海晟电池", "116", "09926", 1),
    ("沐阳乳业", "1", "600897", 11),
    ("国拓物流", "1", "603128", 10),
    ("润泽光伏", "0", "300827", 12),
    ("启明汽车", "116", "02931", 8),
    ("合信芯片", "1", "688702", 0),
    ("丰禾保险", "116", "01336", 13),
)
# Listed as a stock's "peers" in a paragraph naming several companies at once.
PEER_COUNT = (3, 6)  # fewest and most companies in one such list

# (board name, board id, product words for the industry)
BOARDS: tuple[tuple[str, str, str], ...] = (
    ("半导体", "90.BK1036", "先进封装"),
    ("电池", "90.BK1033", "固态电池"),
    ("银行", "90.BK0475", "普惠金融"),
    ("证券", "90.BK0473", "财富管理"),
    ("酿酒行业", "90.BK0477", "高端白酒"),
    ("化学制药", "90.BK0465", "创新药"),
    ("电力行业", "90.BK0428", "绿色电力"),
    ("有色金属", "90.BK0478", "铜精矿"),
    ("汽车整车", "90.BK1029", "智能驾驶"),
    ("软件开发", "90.BK0737", "工业软件"),
    ("物流行业", "90.BK0422", "跨境物流"),
    ("食品饮料", "90.BK0438", "预制菜"),
    ("光伏设备", "90.BK1031", "光伏组件"),
    ("保险", "90.BK0474", "健康险"),
    ("化学制品", "90.BK0538", "电子化学品"),
    ("文化传媒", "90.BK0486", "短剧"),
)

# (keyword, Info id, data page)
KEYWORDS: tuple[tuple[str, str, str], ...] = (
    ("GDP", "400", "http://data.eastmoney.com/cjsj/gdp.html"),
    ("CPI", "401", "http://data.eastmoney.com/cjsj/cpi.html"),
    ("PPI", "402", "http://data.eastmoney.com/cjsj/ppi.html"),
    ("PMI", "403", "http://data.eastmoney.com/cjsj/pmi.html"),
    ("M2", "404", "http://data.eastmoney.com/cjsj/hbgyl.html"),
    ("社会融资规模", "405", "http://data.eastmoney.com/cjsj/shrzgm.html"),
    ("北向资金", "406", "http://data.eastmoney.com/hsgt/index.html"),
    ("融资余额", "407", "http://data.eastmoney.com/rzrq/"),
)

OUTLETS: tuple[str, ...] = (
    "证券时报", "中国证券报", "上海证券报", "证券日报", "经济参考报", "科技日报", "第一财经",
    "财联社", "新华社", "中国基金报", "每日经济新闻", "21世纪经济报道", "界面新闻", "中国银行保险报",
)

# The linker links these board names even inside the outlet line (证券 in 证券时报), as the
# board's first mention: outlet -> index in BOARDS.
OUTLET_BOARDS: dict[str, int] = {
    "证券时报": 3, "中国证券报": 3, "上海证券报": 3, "证券日报": 3, "中国银行保险报": 2,
}

# Who an image caption credits (the source writes "图片来源：X" under a picture).
IMAGE_CREDITS: tuple[str, ...] = ("视觉中国", "东方IC", "新华社", "受访者供图", "企业供图", "摄图网", "IC photo")

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES: tuple[str, ...] = (
    "晓明", "婷", "子涵", "振华", "思远", "雨欣", "建国", "佳琪", "浩然", "文静",
    "立新", "海燕", "志强", "梦瑶", "俊杰", "欣怡",
)

CITIES: tuple[str, ...] = (
    "上海", "深圳", "杭州", "合肥", "成都", "武汉", "苏州", "西安", "重庆", "南京", "厦门", "长沙",
)
PERIODS: tuple[str, ...] = ("一季度", "上半年", "前三季度", "全年")
MOVES: tuple[str, ...] = ("上涨", "下跌")

# Noise: the replay's own wording for the promos, ads and disclaimers of SPEC 5.3.
PROMO_ACCOUNT = "【开户福利】东方财富证券手机开户，最快3分钟办完，佣金优惠等你来领&gt;&gt;"
PROMO_AI = "东方财富AI助手上线：个股公告、研报一键解读，立即免费体验&gt;&gt;"
XUANGU = "{board_name}概念股一览，智能选股助你快速定位&gt;&gt;"
WECHAT = ("打开微信，点击底部的“发现”，", "使用“扫一扫”即可将网页分享至朋友圈。")
STATEMENT = ("郑重声明：东方财富网转载此文出于传递更多信息之目的，不代表本网观点或立场，"
             "文章内容仅供参考，不构成投资建议。投资者据此操作，风险自担。")
RISK = "风险提示及免责条款：市场有风险，投资需谨慎。本文为资讯内容，不构成对任何证券的买卖建议。"
ABSTRACT_LABEL = "摘要"
