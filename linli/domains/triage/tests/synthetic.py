"""A small, obviously separable set of invented appeals in three categories (for tests only)."""

import itertools

PLACES = ["幸福小区", "抚琴西路", "新桥社区", "枣子巷", "力作苑", "金沙路", "花照壁", "西华大道"]

TEMPLATES = {
    "环境保护": [
        ("{p}垃圾堆放", "{p}附近垃圾堆放多日无人清运，臭味很大，污水横流。"),
        ("{p}噪音扰民", "{p}工地夜间施工噪音扰民，粉尘污染严重，请环保部门处理。"),
        ("{p}河道污染", "{p}旁边的河道被排污，水质发黑发臭，鱼都死了。"),
    ],
    "交通运输": [
        ("{p}公交线路", "希望在{p}增开公交线路，早高峰公交车太挤，站台太远。"),
        ("{p}道路拥堵", "{p}路口红绿灯时间太短，车辆拥堵严重，出租车乱停。"),
        ("{p}停车难", "{p}附近停车位太少，机动车占用非机动车道，交通混乱。"),
    ],
    "教育文体": [
        ("{p}学校入学", "孩子在{p}附近上小学，学校学位不足，入学报名很难。"),
        ("{p}幼儿园收费", "{p}的幼儿园收费太高，老师资质不明，家长很担心。"),
        ("{p}图书馆开放", "{p}的图书馆和体育场馆开放时间太短，学生没法去看书锻炼。"),
    ],
}


def messages():
    """(title, body, label) triples: every template at every place."""
    rows = []
    for label, templates in TEMPLATES.items():
        for (title, body), place in itertools.product(templates, PLACES):
            rows.append((title.format(p=place), body.format(p=place), label))
    return rows


def split():
    """Training rows and held-out rows (two of the eight places held out)."""
    rows = messages()
    held_out = {"花照壁", "西华大道"}
    train = [r for r in rows if not any(p in r[0] for p in held_out)]
    test = [r for r in rows if any(p in r[0] for p in held_out)]
    return train, test
