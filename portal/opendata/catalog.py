"""The bulk-data dictionary: every file and column with its meaning and unit, in Chinese and English.

bulk.py writes the columns in exactly this order (a test holds them together), the dictionary page and the
Frictionless datapackage.json are rendered from it, so the published description cannot drift from the files.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Frictionless Table Schema type: string, integer, number, boolean, date, datetime, yearmonth
    zh: str
    en: str
    unit_zh: str = ""
    unit_en: str = ""


@dataclass(frozen=True)
class BulkFile:
    name: str
    title_zh: str
    title_en: str
    about_zh: str
    about_en: str
    columns: tuple[Column, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


USCC = Column("uscc", "string", "统一社会信用代码（18 位）", "Unified social credit code (18 characters)")
NAME = Column("enterprise_name", "string", "企业名称", "Enterprise name")
REGION = Column("region_code", "string", "所在县级行政区划代码（GB/T 2260）", "County-level region code (GB/T 2260)")

FILES: tuple[BulkFile, ...] = (
    BulkFile(
        "enterprises", "企业名录", "Enterprises",
        "平台登记的全部企业及其公开身份信息，不含联系电话。",
        "Every registered enterprise with its public identity data; no contact phone.",
        (USCC, Column("name", "string", "企业名称", "Enterprise name"),
         Column("former_names", "string", "曾用名，以“|”分隔", "Former names, separated by “|”"),
         REGION, Column("region_name", "string", "县级行政区名称", "County-level region name"),
         Column("industry_code", "string", "国民经济行业代码（GB/T 4754-2017）", "Industry code (GB/T 4754-2017)"),
         Column("industry_name", "string", "行业名称", "Industry name"),
         Column("legal_rep", "string", "法定代表人", "Legal representative"),
         Column("address", "string", "注册地址", "Registered address"),
         Column("production_address", "string", "生产经营场所地址", "Production site address"),
         Column("latitude", "number", "纬度（WGS-84）", "Latitude (WGS-84)", "度", "degrees"),
         Column("longitude", "number", "经度（WGS-84）", "Longitude (WGS-84)", "度", "degrees"),
         Column("is_listed", "boolean", "是否上市公司（true/false）", "Listed company (true/false)"),
         Column("stock_code", "string", "股票代码", "Stock code"),
         Column("is_bond_issuer", "boolean", "是否发债企业（true/false）", "Bond issuer (true/false)"),
         Column("updated_at", "datetime", "登记信息最后更新时间（UTC，ISO 8601）",
                "Last change of the registry record (UTC, ISO 8601)")),
    ),
    BulkFile(
        "grades", "环境信用等级", "Credit grades",
        "每家已评价企业当前的环境信用等级与分值。",
        "The current environmental credit grade and score of every evaluated enterprise.",
        (USCC, NAME, REGION,
         Column("scheme_code", "string", "所用评价办法代码", "Code of the evaluation scheme applied"),
         Column("scheme_version", "integer", "评价办法版本号", "Version number of the scheme"),
         Column("grade", "string", "信用等级代码（按评价办法，如 A/B/C/D）", "Grade code (per the scheme, e.g. A/B/C/D)"),
         Column("score", "integer", "信用分值", "Credit score", "分", "points"),
         Column("vetoed", "boolean", "是否因一票否决事项直接定级（true/false）",
                "Graded directly by a veto item (true/false)"),
         Column("as_of", "date", "等级计算所依据的日期", "Date the grade was computed for"),
         Column("basis", "string", "当前等级来源：evaluation 年度评价结果，dynamic 动态记分台账",
                "Where the current grade comes from: evaluation (annual result) or dynamic (points ledger)"),
         Column("since", "date", "当前等级与分值的生效日期", "Date the current grade and score took effect"),
         Column("evaluation_year", "integer", "所依据或之后动态调整的最近一次年度评价的年份（无则为空）",
                "Year of the latest published annual evaluation (empty if none)")),
    ),
    BulkFile(
        "lists", "黑白名单", "Black and white lists",
        "当前在列的严重失信（黑）名单与监督执法正面清单（白名单）。",
        "Enterprises currently on the black list (serious dishonesty) or the white list (positive enforcement list).",
        (Column("list", "string", "名单：black 黑名单，white 白名单", "List: black or white"),
         USCC, NAME,
         Column("reason", "string", "列入理由", "Reason for listing"),
         Column("decision", "string", "决定说明", "Decision note"),
         Column("listed_on", "date", "列入日期", "Date listed"),
         Column("removable_from", "date", "最早可申请移出日期", "Earliest date removal may be applied for"),
         Column("expires_on", "date", "最长期限届满日期", "Date the maximum listing period ends")),
    ),
    BulkFile(
        "disclosures", "依法披露报告索引", "Disclosure index",
        "全部已公开的年度与临时环境信息依法披露报告，含内容摘要值与公开链接。",
        "Every published annual and temporary disclosure report with its content digest and public link.",
        (Column("kind", "string", "报告类型：annual 年度，temporary 临时", "Report kind: annual or temporary"),
         USCC, NAME,
         Column("year", "integer", "年度报告所属年份", "Year an annual report covers"),
         Column("trigger", "string", "临时报告事由代码", "Temporary-report trigger code"),
         Column("status", "string", "状态：published 已公开，corrected 已被更正", "Status: published or corrected"),
         Column("published_at", "datetime", "公开时间（UTC，ISO 8601）", "Publication time (UTC, ISO 8601)"),
         Column("sha256", "string", "报告内容 SHA-256 摘要（可在 /verify 核验）",
                "SHA-256 digest of the report content (check at /verify)"),
         Column("url", "string", "公开页面地址", "Public page URL")),
    ),
    BulkFile(
        "monitoring_monthly", "自行监测月汇总", "Monthly self-monitoring roll-ups",
        "每个排放口、每项污染物每月的有效监测值统计（北京时间自然月）。",
        "Per outlet, pollutant and calendar month (China time): statistics of the valid monitoring values.",
        (USCC, NAME,
         Column("outlet_code", "string", "排放口编号", "Outlet code"),
         Column("pollutant_code", "string", "污染物代码（HJ 212）", "Pollutant code (HJ 212)"),
         Column("pollutant_name", "string", "污染物名称", "Pollutant name"),
         Column("month", "yearmonth", "月份（YYYY-MM，北京时间）", "Month (YYYY-MM, China time)"),
         Column("n_all", "integer", "收到的数值个数", "Number of values received", "个", "values"),
         Column("n_valid", "integer", "有效数值个数", "Number of valid values", "个", "values"),
         Column("mean", "number", "有效值平均", "Mean of the valid values", "见 unit 列", "see column unit"),
         Column("min", "number", "有效值最小值", "Minimum valid value", "见 unit 列", "see column unit"),
         Column("max", "number", "有效值最大值", "Maximum valid value", "见 unit 列", "see column unit"),
         Column("mean_converted", "number", "折算浓度平均（基准氧含量）", "Mean at the reference oxygen content",
                "见 unit 列", "see column unit"),
         Column("unit", "string", "计量单位", "Unit of measurement")),
    ),
    BulkFile(
        "complaints_monthly", "举报月统计", "Monthly complaint statistics",
        "按月、县级行政区和污染类别统计的举报件数，不含任何举报人或举报内容信息；合并的重复件不计。",
        "Complaint counts per month, district and pollution category; no reporter data or complaint text; "
        "merged duplicates are not counted.",
        (Column("month", "yearmonth", "受理月份（YYYY-MM，北京时间）", "Month received (YYYY-MM, China time)"),
         Column("region_code", "string", "发生地县级行政区划代码", "District code where the pollution happens"),
         Column("region_name", "string", "县级行政区名称", "District name"),
         Column("category", "string", "污染类别代码（air 大气，water 水，noise 噪声…）",
                "Pollution category code (air, water, noise, …)"),
         Column("received", "integer", "收到件数", "Complaints received", "件", "cases"),
         Column("accepted", "integer", "其中受理件数", "Of which accepted", "件", "cases"),
         Column("substantiated", "integer", "其中经查属实件数", "Of which substantiated", "件", "cases")),
    ),
)

BY_NAME = {f.name: f for f in FILES}
