"""Word lists and discharge-standard templates the demo generator draws from.

Limits follow the national standards named in each template (direct-discharge values for new sources unless
noted); the demo registry must look like a real one, but no demo enterprise, person or code is real.
"""
from __future__ import annotations

from dataclasses import dataclass

# ---- names -------------------------------------------------------------------------------------------------

BRAND_CHARS = ("华能鸿达恒盛新宏远泰信源汇丰嘉瑞天鑫金永祥荣利安康昌隆兴宇博创中海蓝绿清润德正益和晨光明阳诚凯通佳峰"
               "东方长江锦富春辉腾飞顺舜禾元亿万晟卓越启航")
# A character that often starts a brand in that province (淮 in Huai'an, 蒙 in Inner Mongolia ...).
REGIONAL_BRAND_CHARS = {"32": "淮苏", "15": "蒙科", "33": "越浙", "21": "辽沈"}
SUFFIXES = (("有限公司", 70), ("有限责任公司", 20), ("股份有限公司", 10))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN_CHARS = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红建国志文斌林波宇浩凯鹏辉亮飞鑫晨海峰春雪梅琳晶欣佳颖瑞博俊"

ROAD_WORDS = ("工业园区", "经济开发区", "化工园区", "高新技术产业开发区", "循环经济产业园", "滨河工业园")
STREET_WORDS = ("大道", "路", "东路", "西路", "南路", "北路")
STREET_NAMES = ("发展", "创业", "新港", "振兴", "富民", "滨河", "园区", "工业", "科技", "环城", "兴业", "长江", "黄河",
                "建设", "人民", "和平", "友谊", "宏达", "金山", "银河")

# Approximate centres of the prefecture-level cities (WGS-84): demo coordinates are scattered around them.
CITY_CENTRES = {
    "3208": (33.61, 119.02), "1505": (43.65, 122.24), "3306": (30.00, 120.58), "2101": (41.80, 123.43),
    "2102": (38.91, 121.61), "2103": (41.11, 122.99), "2104": (41.88, 123.96), "2105": (41.29, 123.77),
    "2106": (40.13, 124.38), "2107": (41.10, 121.13), "2108": (40.67, 122.24), "2109": (42.02, 121.67),
    "2110": (41.27, 123.24), "2111": (41.12, 122.07), "2112": (42.29, 123.84), "2113": (41.57, 120.45),
    "2114": (40.71, 120.84),
}
# Telephone area codes of those cities (only the ones used here).
AREA_CODES = {"3208": "0517", "1505": "0475", "3306": "0575", "2101": "024", "2102": "0411"}

# Share of enterprises per province, and which industries are common there (weights).
PROVINCE_WEIGHTS = {"32": 40, "21": 30, "33": 15, "15": 15}
PROVINCE_INDUSTRIES = {
    "32": {"2614": 12, "2619": 6, "2631": 5, "2645": 3, "2661": 5, "2710": 5, "2720": 3, "1512": 3, "1391": 2,
           "4411": 3, "4412": 4, "4620": 5, "3360": 4, "3982": 4, "2221": 3, "1752": 2, "7724": 2, "0313": 3,
           "0321": 2, "3041": 1, "2911": 2, "2641": 3, "3011": 1, "7723": 1},
    "21": {"3110": 6, "3120": 5, "3130": 5, "2511": 6, "2521": 3, "2614": 5, "2651": 4, "3211": 2, "3212": 2,
           "3216": 2, "3011": 3, "4411": 4, "4412": 4, "4430": 4, "2720": 2, "4620": 4, "3360": 4, "2911": 2,
           "0313": 3, "0311": 2, "7724": 2, "2621": 2},
    "33": {"1713": 14, "1752": 14, "1910": 2, "1931": 2, "2645": 5, "2661": 4, "2710": 5, "2720": 3, "2740": 2,
           "2221": 4, "4412": 3, "4620": 4, "3360": 5, "3982": 3, "1512": 1, "7724": 2, "2641": 2},
    "15": {"4411": 10, "4412": 6, "4430": 5, "0311": 8, "0313": 4, "1340": 4, "1391": 3, "2521": 3, "2621": 3,
           "3216": 4, "3011": 3, "2761": 3, "4620": 3, "7723": 2, "2613": 2},
}

# ---- discharge standards -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LimitSpec:
    pollutant: str
    value: str | None  # maximum, as a decimal string
    averaging: str  # hourly / daily / instant
    standard: str
    range: tuple[str, str] | None = None  # pH
    reference_o2: str | None = None


@dataclass(frozen=True)
class OutletSpec:
    code: str
    name: str
    outlet_type: str  # main / general
    limits: tuple[LimitSpec, ...]


def _water(standard: str, cod: str, nh3: str, ph: bool = True, outlet_type: str = "main",
           name: str = "废水总排放口") -> OutletSpec:
    limits = [LimitSpec("w01018", cod, "daily", standard), LimitSpec("w21003", nh3, "daily", standard)]
    if ph:
        limits.append(LimitSpec("w01001", None, "instant", standard, range=("6", "9")))
    return OutletSpec("DW001", name, outlet_type, tuple(limits))


def _gas(code: str, name: str, standard: str, so2: str | None, nox: str | None, pm: str | None,
         o2: str | None = None, nmhc: str | None = None, outlet_type: str = "main") -> OutletSpec:
    limits = [LimitSpec(p, v, "hourly", standard, reference_o2=o2)
              for p, v in (("a21026", so2), ("a21002", nox), ("a34013", pm), ("a24088", nmhc)) if v is not None]
    return OutletSpec(code, name, outlet_type, tuple(limits))


GB8978 = "GB 8978-1996 一级"
GB16297 = "GB 16297-1996 二级"
_POWER = "GB 13223-2011（超低排放）"
_BOILER = "GB 13271-2014"

OUTLETS: dict[str, tuple[OutletSpec, ...]] = {
    "power": (_gas("DA001", "1#锅炉烟囱", _POWER, "35", "50", "10", o2="6"),
              _gas("DA002", "2#锅炉烟囱", _POWER, "35", "50", "10", o2="6"),
              _water(GB8978, "100", "15", outlet_type="general")),
    "heat": (_gas("DA001", "供热锅炉烟囱", _BOILER, "300", "300", "50", o2="9"),),
    "petrochem": (_gas("DA001", "工艺加热炉烟囱", "GB 31571-2015", "100", "150", "20"),
                  _gas("DA002", "有机废气处理设施排气筒", GB16297, None, None, None, nmhc="120", outlet_type="general"),
                  _water("GB 31571-2015", "60", "8")),
    "chem": (_gas("DA001", "工艺废气排气筒", GB16297, "550", "240", "120", nmhc="120"),
             _water(GB8978, "100", "15")),
    "refinery": (_gas("DA001", "工艺加热炉烟囱", "GB 31570-2015", "100", "150", "20"),
                 _water("GB 31570-2015", "60", "8")),
    "coking": (_gas("DA001", "焦炉烟囱", "GB 16171-2012", "50", "500", "30"), _water("GB 16171-2012", "80", "10")),
    "pharma": (_gas("DA001", "工艺废气排气筒", "GB 37823-2019", None, None, "30", nmhc="100"),
               _water("GB 21904-2008", "120", "25")),
    "paper": (_water("GB 3544-2008", "80", "8"),),
    "pulp": (_water("GB 3544-2008", "100", "12"),),
    "dyeing": (_water("GB 4287-2012", "80", "10"),
               _gas("DA001", "定型机废气排气筒", GB16297, None, None, "120", nmhc="120", outlet_type="general")),
    "leather": (_water("GB 30486-2013", "100", "25"),),
    "cement": (_gas("DA001", "水泥窑窑尾烟囱", "GB 4915-2013", "200", "400", "30", o2="10"),),
    "glass": (_gas("DA001", "玻璃熔窑烟囱", "GB 26453-2011", "400", "700", "50", o2="8"),),
    "steel": (_gas("DA001", "烧结机机头烟囱", "GB 28662-2012", "200", "300", "50"), _water(GB8978, "100", "15")),
    "copper": (_gas("DA001", "冶炼烟气制酸尾气排气筒", "GB 25467-2010", "400", None, "80"),
               _water("GB 25467-2010", "60", "8")),
    "nonferrous": (_gas("DA001", "冶炼烟气排气筒", GB16297, "550", "240", "120"), _water(GB8978, "100", "15")),
    "plating": (_water("GB 21900-2008", "80", "15", name="电镀废水总排放口"),),
    "pcb": (_water(GB8978, "100", "15"),
            _gas("DA001", "有机废气排气筒", GB16297, None, None, None, nmhc="120", outlet_type="general")),
    "tyre": (_gas("DA001", "炼胶硫化废气排气筒", "GB 27632-2011", None, None, "12", nmhc="10"),
             _water("GB 27632-2011", "70", "10")),
    "sewage": (_water("GB 18918-2002 一级A", "50", "5", name="污水处理厂出水口"),),
    "hazwaste": (_gas("DA001", "焚烧炉烟囱", "GB 18484-2020", "100", "300", "30", o2="11"),
                 _water(GB8978, "100", "15", outlet_type="general")),
    "solidwaste": (_water(GB8978, "100", "15", name="渗滤液处理排放口"),),
    "livestock": (_water("GB 18596-2001", "400", "80", ph=False, name="养殖废水排放口"),),
    "ferment": (_water("GB 27631-2011", "100", "10"),),
    "sugar": (_water("GB 21909-2008", "100", "10"),),
    "starch": (_water("GB 25461-2010", "100", "15"),),
    "fertiliser": (_gas("DA001", "造气吹风气锅炉烟囱", GB16297, "550", "240", "120"),
                   _water("GB 13458-2013", "80", "25")),
}

# industry code → (name words, outlet template key, key-unit types it usually gets)
INDUSTRY_PROFILES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "0311": (("牧业", "牛业", "畜牧"), "livestock", ("water",)),
    "0313": (("牧业", "生猪养殖", "农牧"), "livestock", ("water",)),
    "0321": (("禽业", "养殖", "农牧"), "livestock", ("water",)),
    "1340": (("糖业", "制糖"), "sugar", ("water",)),
    "1391": (("淀粉", "生物科技"), "starch", ("water",)),
    "1512": (("酒业", "酿酒"), "ferment", ("water",)),
    "1713": (("印染", "纺织印染", "染整"), "dyeing", ("water",)),
    "1752": (("印染", "染整", "纺织科技"), "dyeing", ("water",)),
    "1910": (("皮革", "制革"), "leather", ("water", "soil")),
    "1931": (("皮草", "毛皮"), "leather", ("water",)),
    "2211": (("浆业", "纸浆"), "pulp", ("water",)),
    "2221": (("纸业", "造纸"), "paper", ("water",)),
    "2511": (("石化", "石油化工", "炼化"), "refinery", ("air", "water", "risk")),
    "2521": (("焦化", "煤化工"), "coking", ("air", "water", "risk")),
    "2611": (("化工", "化学"), "chem", ("water", "risk")),
    "2612": (("碱业", "化工"), "chem", ("water", "risk")),
    "2613": (("盐化", "化工"), "chem", ("water",)),
    "2614": (("化工", "精细化工", "化学"), "petrochem", ("water", "air", "risk", "soil")),
    "2619": (("化工", "精细化工"), "chem", ("water", "risk")),
    "2621": (("化肥", "化工"), "fertiliser", ("air", "water")),
    "2631": (("农化", "农药", "生物化学"), "chem", ("water", "risk", "soil")),
    "2641": (("涂料", "化工"), "chem", ("air",)),
    "2645": (("染料", "化工"), "chem", ("water", "risk")),
    "2651": (("树脂", "新材料", "塑业"), "petrochem", ("air", "risk")),
    "2661": (("助剂", "化学", "精细化工"), "chem", ("water",)),
    "2710": (("制药", "药业", "医药化工"), "pharma", ("water", "air", "risk")),
    "2720": (("药业", "制药"), "pharma", ("water",)),
    "2740": (("中药", "药业"), "pharma", ("water",)),
    "2761": (("生物制药", "生物科技"), "pharma", ("water", "risk")),
    "2911": (("轮胎", "橡胶"), "tyre", ("air",)),
    "3011": (("水泥", "建材"), "cement", ("air",)),
    "3041": (("玻璃", "光电玻璃"), "glass", ("air",)),
    "3110": (("钢铁", "冶金"), "steel", ("air", "water")),
    "3120": (("特钢", "钢铁"), "steel", ("air",)),
    "3130": (("钢材", "钢管"), "steel", ("air",)),
    "3211": (("铜业", "冶炼"), "copper", ("air", "water", "soil")),
    "3212": (("铅锌", "有色金属"), "nonferrous", ("air", "soil", "risk")),
    "3216": (("铝业", "有色金属"), "nonferrous", ("air",)),
    "3360": (("电镀", "表面处理", "金属表面处理"), "plating", ("water", "soil")),
    "3982": (("电路", "电子", "线路板"), "pcb", ("water",)),
    "4411": (("热电", "发电", "电力"), "power", ("air",)),
    "4412": (("热电", "能源"), "power", ("air",)),
    "4430": (("热力", "供热"), "heat", ("air",)),
    "4620": (("水务", "污水处理", "环境"), "sewage", ("water",)),
    "7723": (("环保", "固废处置", "再生资源"), "solidwaste", ("soil",)),
    "7724": (("环保科技", "危废处置", "环境服务"), "hazwaste", ("air", "soil", "risk")),
}

STOCK_PREFIXES = ("600", "601", "603", "000", "002", "300")
