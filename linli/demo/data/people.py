"""Tables the invented residents are drawn from. Names are random combinations of common surnames and
given-name characters: they identify nobody. Region codes are GB/T 2260 codes of Sichuan."""

from __future__ import annotations

# Common surnames, most frequent first (weights fall off with rank).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)

# Given names by era (birth year) and gender. Older generations favour 国/建/秀/淑, younger 子/梓/欣.
GIVEN = {
    ("old", "M"): [
        "建国",
        "建华",
        "国庆",
        "志强",
        "德明",
        "正清",
        "文华",
        "国富",
        "永昌",
        "志刚",
        "德福",
        "光明",
        "树林",
        "长生",
        "福贵",
        "明轩",
        "卫东",
        "继红",
        "宗华",
        "成林",
        "学文",
        "玉堂",
        "泽民",
        "春华",
    ],
    ("old", "F"): [
        "秀英",
        "淑芬",
        "桂兰",
        "玉珍",
        "秀兰",
        "桂英",
        "玉兰",
        "淑华",
        "凤英",
        "素珍",
        "翠华",
        "秀珍",
        "惠芳",
        "丽华",
        "淑珍",
        "桂芳",
        "雪梅",
        "月英",
        "春兰",
        "琼芳",
        "德容",
        "碧华",
        "素芳",
        "玉蓉",
    ],
    ("mid", "M"): [
        "伟",
        "勇",
        "军",
        "强",
        "磊",
        "涛",
        "斌",
        "波",
        "刚",
        "杰",
        "俊",
        "鹏",
        "建平",
        "海涛",
        "志勇",
        "小龙",
        "东",
        "兵",
        "明",
        "超",
        "晓峰",
        "红军",
        "永刚",
        "立新",
    ],
    ("mid", "F"): [
        "静",
        "丽",
        "艳",
        "娟",
        "敏",
        "霞",
        "燕",
        "玲",
        "红梅",
        "晓燕",
        "丽娟",
        "春燕",
        "小红",
        "莉",
        "芳",
        "琴",
        "蓉",
        "梅",
        "英",
        "晓琴",
        "雪",
        "洁",
        "倩",
        "慧",
    ],
    ("young", "M"): [
        "浩然",
        "宇轩",
        "子豪",
        "俊杰",
        "博文",
        "天佑",
        "梓睿",
        "一鸣",
        "子墨",
        "皓轩",
        "宇航",
        "思远",
        "嘉豪",
        "铭泽",
        "睿",
        "瑞",
        "航",
        "晨阳",
        "锦程",
        "明哲",
        "子骞",
        "昊天",
        "奕辰",
        "宸",
    ],
    ("young", "F"): [
        "欣怡",
        "子涵",
        "梓萱",
        "诗涵",
        "雨桐",
        "语嫣",
        "思琪",
        "一诺",
        "佳怡",
        "可馨",
        "若曦",
        "梦瑶",
        "雨欣",
        "紫萱",
        "依诺",
        "芷若",
        "婉清",
        "沐晴",
        "悦",
        "萌",
        "婷",
        "睿涵",
        "安琪",
        "书瑶",
    ],
}

# Surnames more common among Hui families in Sichuan.
HUI_SURNAMES = "马白哈穆沙海米杨丁张李王"
# Tibetan names (no surname): two two-character elements.
TIBETAN_PARTS = {
    "M": ["扎西", "次仁", "多吉", "格桑", "罗布", "尼玛", "顿珠", "泽仁", "洛桑", "贡布", "益西", "旺堆"],
    "F": ["卓玛", "央金", "拉姆", "措姆", "德吉", "曲珍", "格桑", "次仁", "白玛", "泽仁", "益西", "斯郎"],
}
TIBETAN_SECOND = {
    "M": ["多吉", "次仁", "平措", "旺久", "加措", "尼玛", "罗布", "顿珠", "扎西", "朗杰"],
    "F": ["卓玛", "拉姆", "央宗", "曲珍", "德吉", "措姆", "央金", "玉珍", "梅朵", "卓嘎"],
}
# Yi names: family name + given name, written in Chinese characters.
YI_FAMILY = ["阿苏", "吉克", "沙马", "马海", "阿西", "海来", "俄底", "吉伍", "阿的", "曲比"]
YI_GIVEN = {
    "M": ["拉则", "伍各", "日火", "木呷", "尔古", "石布", "阿木", "克惹", "约达", "布哈"],
    "F": ["阿依", "阿呷", "阿芝", "伍芝", "阿果", "日嫫", "以撒", "拉莫", "阿牛", "此嫫"],
}
# Qiang families mostly use Han-style names; these surnames are common among them.
QIANG_SURNAMES = "余王杨何陈周毛龙"

# Ethnic mix of households: in 力作苑 (Lizuoyuan) about a third are minority families; elsewhere few.
ETHNIC_WEIGHTS_FEATURED_MINORITY = [
    ("汉族", 62),
    ("回族", 14),
    ("藏族", 10),
    ("彝族", 8),
    ("羌族", 5),
    ("满族", 1),
]
ETHNIC_WEIGHTS_DEFAULT = [
    ("汉族", 975),
    ("回族", 7),
    ("藏族", 6),
    ("彝族", 5),
    ("羌族", 3),
    ("满族", 2),
    ("土家族", 1),
    ("苗族", 1),
]

# Region codes (GB/T 2260) for ID numbers: where a person's household registration began.
REGION_LOCAL = "510106"  # 金牛区
REGION_CHENGDU = ["510104", "510105", "510107", "510108", "510112", "510113", "510114"]
REGION_SICHUAN = [
    "510302",
    "510502",
    "510603",
    "510703",
    "511002",
    "511102",
    "511302",
    "511502",
    "511602",
    "511702",
    "511903",
    "512002",
]
REGION_BY_ETHNIC = {
    "藏族": ["513301", "513201", "513226"],  # 康定、马尔康、金川
    "彝族": ["513401", "513422", "513427"],  # 西昌、木里、宁南
    "羌族": ["513221", "513222", "513224"],  # 汶川、理县、松潘
}

# Household compositions for owner-occupied flats, with weights.
HOUSEHOLD_KINDS = [
    ("elder_alone", 11),
    ("elder_couple", 14),
    ("family", 32),
    ("three_generations", 15),
    ("young_couple", 8),
    ("single", 9),
    ("grandparents_grandchild", 4),
    ("single_parent", 7),
]
# Compositions for rental flats.
RENTAL_KINDS = [("tenant_single", 45), ("tenant_couple", 30), ("tenant_family", 15), ("tenant_shared", 10)]
