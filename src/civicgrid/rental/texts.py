"""The shipped default rule set's texts (``data/rules/default.json``), marked for the English
catalogue.

Rule sets are data, stored as written and returned by the API as written. The door-plate and
landlord pages pass a grade's texts and the rules' reasons and fixes through ``gettext`` when
they show them, so these texts read in English when English is chosen, and a city's own
wording shows as the city wrote it. ``tests/rental/test_i18n.py`` checks this list against the
JSON file.
"""

from django.utils.translation import gettext_noop

DEFAULT = (
    # grades: label, meaning, what a tenant should know
    gettext_noop("宽管级"),
    gettext_noop("房屋条件良好、业主依法申报，日常服务为主。"),
    gettext_noop("请在入住后及时扫码申报居住登记。"),
    gettext_noop("严管级"),
    gettext_noop("存在申报不全或隐患未整改等问题，加密检查。"),
    gettext_noop("请扫码申报居住登记，留意消防安全，发现隐患可随时反映。"),
    gettext_noop("禁止级"),
    gettext_noop("存在严重安全隐患，整改完成前不得出租。"),
    gettext_noop("该房屋整改前不得出租；如您已入住，请注意安全并可随时反映问题。"),
    # rules: reason, fix
    gettext_noop("检查发现逃生通道堵塞"),
    gettext_noop("清理楼道、拆除封堵逃生窗的防盗网，保持逃生通道畅通"),
    gettext_noop("检查发现电动自行车入户或楼道充电"),
    gettext_noop("禁止电动自行车入户和楼道充电，使用集中充电点"),
    gettext_noop("检查发现违规用途（如三合一、仓库住人）"),
    gettext_noop("停止违规用途，恢复居住用途并分隔生产经营区域"),
    gettext_noop("登记居住人数少于实住人数"),
    gettext_noop("为全部住户申报居住登记（租客可扫门牌二维码自行申报）"),
    gettext_noop("未签订安全责任书"),
    gettext_noop("与社区签订出租屋安全责任书"),
    gettext_noop("有未整改的隐患"),
    gettext_noop("整改已发现的隐患，由网格员核查销号"),
    gettext_noop("消防设施缺失或损坏"),
    gettext_noop("配齐灭火器、烟感报警器和应急照明"),
    gettext_noop("人均居住面积不足 6 平方米（群租）"),
    gettext_noop("减少入住人数，拆除违规隔断"),
    gettext_noop("近 12 个月拒绝检查"),
    gettext_noop("配合网格员入户检查"),
)
