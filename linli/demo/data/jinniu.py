"""Place names and organisations of the Jinniu demo.

Street names are the district's real 13 streets (街道); seed points put them at plausible relative
positions (west: 西华/金泉/茶店子; south along the first ring road: 西安路/抚琴/营门口/荷花池;
east: 驷马桥/五块石; north: 凤凰山/天回镇). Communities named in PRODUCT.md are real; the others are
plausible names for the demo, and every boundary is drawn by the generator, not surveyed.
"""

from __future__ import annotations

DISTRICT_CODE = "510106"
DISTRICT_NAME = "金牛区"

# An irregular outline of north-west Chengdu inside and around the third ring road (lng, lat),
# counter-clockwise from the southern tip near the first ring road.
DISTRICT_OUTLINE = [
    (104.0550, 30.6650),
    (104.0760, 30.6680),
    (104.0930, 30.6770),
    (104.1040, 30.6900),
    (104.1010, 30.7080),
    (104.1070, 30.7300),
    (104.1130, 30.7600),
    (104.1110, 30.7880),
    (104.0960, 30.8020),
    (104.0760, 30.7980),
    (104.0660, 30.7760),
    (104.0500, 30.7590),
    (104.0230, 30.7480),
    (103.9960, 30.7370),
    (103.9820, 30.7190),
    (103.9880, 30.7010),
    (104.0080, 30.6900),
    (104.0300, 30.6770),
]


# (name, slug, seed (lng, lat), [(community name, slug), …]). Order gives the street codes
# 510106001, 510106002, … and the community codes street + 001, 002, …
STREETS = [
    (
        "西安路街道",
        "xianlu",
        (104.0560, 30.6760),
        [
            ("枣子巷社区", "zaozixiang"),
            ("西安中路社区", "xianzhonglu"),
            ("花牌坊社区", "huapaifang"),
            ("三洞桥社区", "sandongqiao"),
        ],
    ),
    (
        "西华街道",
        "xihua",
        (103.9990, 30.7240),
        [
            ("西华社区", "xihua"),
            ("土桥社区", "tuqiao"),
            ("侯家桥社区", "houjiaqiao"),
            ("红花堰社区", "honghuayan"),
        ],
    ),
    (
        "荷花池街道",
        "hehuachi",
        (104.0840, 30.6860),
        [
            ("荷花池社区", "hehuachi"),
            ("大安西路社区", "daanxilu"),
            ("站北社区", "zhanbei"),
            ("铁路新村社区", "tieluxincun"),
        ],
    ),
    (
        "驷马桥街道",
        "simaqiao",
        (104.0950, 30.7030),
        [
            ("驷马桥社区", "simaqiao"),
            ("双水碾社区", "shuangshuinian"),
            ("曹家巷社区", "caojiaxiang"),
        ],
    ),
    (
        "茶店子街道",
        "chadianzi",
        (104.0190, 30.7080),
        [
            ("茶店子社区", "chadianzi"),
            ("金科社区", "jinke"),
            ("羊西社区", "yangxi"),
            ("蜀西社区", "shuxi"),
        ],
    ),
    (
        "抚琴街道",
        "fuqin",
        (104.0400, 30.6850),
        [
            ("西北街社区", "xibeijie"),
            ("抚琴西路社区", "fuqinxilu"),
            ("金鱼街社区", "jinyujie"),
            ("西马棚社区", "ximapeng"),
            ("抚琴东北路社区", "fuqindongbeilu"),
        ],
    ),
    (
        "九里堤街道",
        "jiuliti",
        (104.0600, 30.7050),
        [
            ("九里堤北路社区", "jiulitibeilu"),
            ("九里堤南路社区", "jiulitinanlu"),
            ("交大社区", "jiaoda"),
            ("星科社区", "xingke"),
        ],
    ),
    (
        "五块石街道",
        "wukuaishi",
        (104.0810, 30.7130),
        [
            ("五块石社区", "wukuaishi"),
            ("蓉北社区", "rongbei"),
            ("赛云台社区", "saiyuntai"),
            ("金府社区", "jinfu"),
        ],
    ),
    (
        "营门口街道",
        "yingmenkou",
        (104.0280, 30.6940),
        [
            ("营门口社区", "yingmenkou"),
            ("花照壁社区", "huazhaobi"),
            ("银沙社区", "yinsha"),
            ("黄忠社区", "huangzhong"),
        ],
    ),
    (
        "金泉街道",
        "jinquan",
        (104.0030, 30.7050),
        [
            ("金泉社区", "jinquan"),
            ("两河社区", "lianghe"),
            ("蜀汉社区", "shuhan"),
            ("金丰社区", "jinfeng"),
        ],
    ),
    (
        "沙河源街道",
        "shaheyuan",
        (104.0420, 30.7260),
        [
            ("新桥社区", "xinqiao"),
            ("洞子口社区", "dongzikou"),
            ("友联社区", "youlian"),
            ("沙河源社区", "shaheyuan"),
        ],
    ),
    (
        "凤凰山街道",
        "fenghuangshan",
        (104.0780, 30.7480),
        [
            ("凤凰山社区", "fenghuangshan"),
            ("高家社区", "gaojia"),
            ("八里社区", "bali"),
            ("青龙社区", "qinglong"),
        ],
    ),
    (
        "天回镇街道",
        "tianhuizhen",
        (104.0950, 30.7820),
        [
            ("天回社区", "tianhui"),
            ("金华社区", "jinhua"),
            ("大湾社区", "dawan"),
            ("明月社区", "mingyue"),
            ("云盘社区", "yunpan"),
        ],
    ),
]

# Roads per street slug (each street gets a Road row per name; compounds take their address from one).
ROADS = {
    "xianlu": ["西安中路", "西安北路", "一环路北一段", "沙湾路", "枣子巷"],
    "xihua": ["西华大道", "土桥街", "金牛大道"],
    "hehuachi": ["一环路北二段", "大安西路", "站北东街"],
    "simaqiao": ["二环路北三段", "驷马桥路", "双水碾街"],
    "chadianzi": ["羊西线", "茶店子路", "蜀西路"],
    "fuqin": ["抚琴西路", "抚琴东北路", "西北街", "金鱼街"],
    "jiuliti": ["交大路", "金府路", "二环路北一段", "九里堤中路"],
    "wukuaishi": ["二环路北二段", "蓉北商贸大道", "赛云台北路"],
    "yingmenkou": ["营门口路", "花照壁西顺街", "银沙路"],
    "jinquan": ["蜀汉路", "金泉路", "金丰路"],
    "shaheyuan": ["沙河源路", "洞子口路", "新桥路"],
    "fenghuangshan": ["北星大道", "凤凰山路", "青龙街"],
    "tianhuizhen": ["天回路", "蓉都大道", "明月路"],
}

# Featured compounds: (community slug, name, built year, has property company, road, note).
# Each is the first compound of the first grid of its community.
FEATURED_COMPOUNDS = [
    (
        "xibeijie",
        "力作苑小区",
        1992,
        False,
        "抚琴西路",
        "建于1992年，无物业公司，院落自治管理；全区少数民族居民最多的小区（回族、藏族、彝族、羌族等）。",
    ),
    ("xinqiao", "新桥小区", 1998, True, "新桥路", "毗邻新桥社区党群服务中心。"),
    ("zaozixiang", "枣子巷小区", 1996, False, "枣子巷", "位于中医药文化特色街区内。"),
]

COMMUNITY_NOTES = {
    "xibeijie": "辖力作苑小区（1992年建成、无物业、少数民族居民最多）；院落自治示范。",
    "xinqiao": "新桥社区党群服务中心：开设摄影班等公益课程，设社区警务室。",
    "zaozixiang": "枣子巷中医药特色街：中医药文化主题街区，名医馆、药膳坊、养生讲堂。",
}

# Communities whose station sits in a named place.
COMMUNITY_STATION_ADDRESS = {
    "xinqiao": "新桥路新桥社区党群服务中心",
    "zaozixiang": "枣子巷中医药特色街社区党群服务中心",
    "xibeijie": "西北街社区党群服务中心",
}

# (name, short name, slug) of the district departments. The slug makes the demo username dept_<slug>.
DEPARTMENTS = [
    ("金牛区住房和城乡建设局", "区住建局", "zjj"),
    ("金牛区城市管理和综合执法局", "区综合执法局", "cgj"),
    ("金牛区民政局", "区民政局", "mzj"),
    ("金牛区卫生健康局", "区卫健局", "wjj"),
    ("金牛区教育局", "区教育局", "jyj"),
    ("金牛区交通运输局", "区交通运输局", "jtj"),
    ("成都市金牛生态环境局", "区生态环境局", "sthjj"),
    ("金牛区市场监督管理局", "区市场监管局", "scjgj"),
    ("金牛区人力资源和社会保障局", "区人社局", "rsj"),
    ("金牛区水务局", "区水务局", "swj"),
    ("金牛区文化体育和旅游局", "区文体旅局", "wtlj"),
    ("金牛区商务局", "区商务局", "sj"),
    ("中共金牛区委城乡社区发展治理委员会", "区委社治委", "szw"),
    ("成都市公安局金牛区分局", "金牛公安分局", "gaj"),
]

PROPERTY_COMPANIES = [
    "成都锦宏物业服务有限公司",
    "成都蓉安物业管理有限公司",
    "成都金府物业服务有限公司",
    "四川和瑞物业服务有限公司",
    "成都嘉禾物业管理有限公司",
    "成都天府邻安物业服务有限公司",
    "成都银杏物业服务有限公司",
    "四川蜀安物业管理有限公司",
]

# (name, short name, community slug or None for district-wide, note)
SOCIAL_ORGANISATIONS = [
    ("金牛区邻里互助服务中心", "邻里互助", None),
    ("金牛区夕阳红为老服务中心", "夕阳红", None),
    ("金牛区社治创享服务中心", "社治创享", None),
    ("新桥社区光影摄影队", "光影摄影队", "xinqiao"),
    ("枣子巷中医药文化志愿服务队", "中医药志愿队", "zaozixiang"),
    ("西北街社区民族团结互助会", "民族互助会", "xibeijie"),
]

COMPOUND_PREFIXES = [
    "锦华",
    "金桂",
    "银杏",
    "翠微",
    "兴旺",
    "和平",
    "春晖",
    "长城",
    "友谊",
    "光明",
    "瑞景",
    "康乐",
    "嘉禾",
    "怡和",
    "丰泽",
    "金沙",
    "蜀汉",
    "锦绣",
    "华兴",
    "望江",
    "新华",
    "富春",
    "泰和",
    "永丰",
    "同心",
    "安居",
    "明珠",
    "紫荆",
    "桂馨",
    "梧桐",
    "清水",
    "云锦",
    "南苑",
    "北辰",
    "东篱",
    "西岭",
    "聚贤",
    "景和",
    "润泽",
    "蓉城",
    "天韵",
    "金穗",
    "玉林",
    "荷塘",
    "芙蓉",
    "锦江",
    "凤鸣",
    "青华",
    "花溪",
    "竹韵",
]
COMPOUND_SUFFIXES = ["小区", "苑", "花园", "家园", "院落", "公寓", "新村", "大院", "雅居", "名城"]
# Work-unit dormitory compounds, common among old courtyards (单位宿舍院落).
DORM_OWNERS = ["铁路", "供销社", "机械厂", "电力", "邮电", "纺织厂", "建工", "粮食局", "棉纺厂", "运输公司"]
