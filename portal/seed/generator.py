"""Deterministic demo-registry generator: plain dict rows ready for Core inserts (no database here).

The same seed, regions and day give the same enterprises, codes and names, so screenshots, tests and benchmarks are
repeatable. Rows carry explicit ids so permits, outlets and limits can point at their parents without a round trip.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Iterator

from portal.maps import boundaries
from portal.enterprises.rules import USCC_ALPHABET, org_code_check_char, uscc_check_char
from portal.search.tokens import bigram_doc
from portal.seed import catalog

DEMO_REGION = "320826"  # 涟水县: the first enterprise (bound to the demo enterprise accounts) is always there
DEMO_INDUSTRY = "2614"
_DIGITS = "0123456789"


@dataclass
class Bundle:
    """One enterprise and everything that hangs off it."""

    enterprise: dict
    permits: list[dict] = field(default_factory=list)
    outlets: list[dict] = field(default_factory=list)
    limits: list[dict] = field(default_factory=list)
    key_units: list[dict] = field(default_factory=list)


class DemoGenerator:
    def __init__(self, seed: int, regions: list[dict], pollutant_units: dict[str, str], today: date,
                 now: datetime, first_ids: dict[str, int] | None = None):
        self.rng = random.Random(seed)
        self.today, self.now = today, now
        self.units = pollutant_units
        self.regions = {r["code"]: r for r in regions}
        self.leaves = self._leaves_by_province(regions)
        self.ids = dict(first_ids or {})
        for table in ("enterprises", "permits", "outlets", "outlet_limits", "key_unit_years"):
            self.ids.setdefault(table, 1)
        self.usccs: set[str] = set()
        self.names: set[str] = set()
        self.provinces = [p for p in catalog.PROVINCE_WEIGHTS if self.leaves.get(p)]
        self.province_weights = [catalog.PROVINCE_WEIGHTS[p] for p in self.provinces]

    # ---- helpers -------------------------------------------------------------------------------------------

    @staticmethod
    def _leaves_by_province(regions: list[dict]) -> dict[str, list[dict]]:
        parents = {r["parent_code"] for r in regions if r["parent_code"]}
        leaves: dict[str, list[dict]] = {}
        for r in regions:
            if r["level"] >= 2 and r["code"] not in parents and r["code"][:4] in catalog.CITY_CENTRES:
                leaves.setdefault(r["code"][:2], []).append(r)
        return leaves

    def _next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _weighted(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _place(self, region: dict) -> str:
        if region["level"] == 2:
            return region["name"]
        city = self.regions[region["parent_code"]]["name"]
        if region["name"].endswith("区") or self.rng.random() < 0.4:
            return city + region["name"]
        return region["name"]

    def _brand(self, province: str) -> str:
        first = (self.rng.choice(catalog.REGIONAL_BRAND_CHARS[province]) if self.rng.random() < 0.15
                 else self.rng.choice(catalog.BRAND_CHARS))
        second = self.rng.choice(catalog.BRAND_CHARS)
        while second == first:
            second = self.rng.choice(catalog.BRAND_CHARS)
        return first + second

    def _name(self, region: dict, industry: str) -> str:
        words = catalog.INDUSTRY_PROFILES[industry][0]
        suffixes = [s for s, _ in catalog.SUFFIXES]
        weights = [w for _, w in catalog.SUFFIXES]
        name = ""
        for _ in range(20):  # retry on a clash; a registry has unique names within a region in practice
            name = (self._place(region) + self._brand(region["code"][:2]) + self.rng.choice(words)
                    + self.rng.choices(suffixes, weights=weights)[0])
            if name not in self.names:
                break
        self.names.add(name)
        return name

    def _uscc(self, region_code: str) -> str:
        while True:
            if self.rng.random() < 0.4:  # system-assigned codes of newer registrations start with MA
                org8 = "MA" + "".join(self.rng.choices(USCC_ALPHABET, k=6))
            else:
                org8 = "".join(self.rng.choices(_DIGITS, k=8))
            first17 = f"91{region_code}{org8}{org_code_check_char(org8)}"
            code = first17 + uscc_check_char(first17)
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def _person(self) -> str:
        given = "".join(self.rng.choices(catalog.GIVEN_CHARS, k=self.rng.choice((1, 2, 2))))
        return self.rng.choice(catalog.SURNAMES) + given

    def _address(self, region: dict) -> str:
        parts = []
        code = region["code"]
        for c in (code[:2] + "0000", code[:4] + "00", code):
            if c in self.regions and (not parts or self.regions[c]["name"] != parts[-1]):
                parts.append(self.regions[c]["name"])
        street = self.rng.choice(catalog.STREET_NAMES) + self.rng.choice(catalog.STREET_WORDS)
        return "".join(parts) + self.rng.choice(catalog.ROAD_WORDS) + street + f"{self.rng.randint(1, 999)}号"

    def _sampler(self, region_code: str):
        """Points inside the county's vendored boundary (portal/maps/boundaries.py), None where it has none."""
        region = self.regions[region_code]
        prefecture = self.regions.get(region_code[:4] + "00", region)
        return boundaries.sampler(region_code, region["name"], prefecture["name"])

    def _coords(self, region_code: str) -> tuple[Decimal, Decimal]:
        lat, lon = catalog.CITY_CENTRES[region_code[:4]]
        u_lat, u_lon = self.rng.uniform(-0.3, 0.3), self.rng.uniform(-0.35, 0.35)  # the same draws as before
        inside = self._sampler(region_code)
        if inside is not None:  # a point inside the county, picked by the same draw
            lat, lon = inside.point((u_lat + 0.3) / 0.6)
            return Decimal(f"{lat:.6f}"), Decimal(f"{lon:.6f}")
        return Decimal(f"{lat + u_lat:.6f}"), Decimal(f"{lon + u_lon:.6f}")

    def _phone(self, region_code: str) -> str:
        area = catalog.AREA_CODES.get(region_code[:4])
        return f"{area}-{self.rng.randint(2, 8)}{self.rng.randint(0, 9999999):07d}" if area else ""

    def _valid_to(self) -> date:
        roll = self.rng.random()
        if roll < 0.06:
            days = self.rng.randint(0, 60)  # due for renewal (排污许可管理条例 art. 14)
        elif roll < 0.09:
            days = self.rng.randint(-120, -1)  # expired
        else:
            days = self.rng.randint(61, 5 * 365)
        return self.today + timedelta(days=days)

    # ---- rows ----------------------------------------------------------------------------------------------

    def enterprise(self, index: int) -> Bundle:
        if index == 0:
            region, industry = self.regions[DEMO_REGION], DEMO_INDUSTRY
        else:
            province = self.rng.choices(self.provinces, weights=self.province_weights)[0]
            region = self.rng.choice(self.leaves[province])
            industry = self._weighted(catalog.PROVINCE_INDUSTRIES[province])
        eid = self._next_id("enterprises")
        uscc = self._uscc(region["code"])
        name = self._name(region, industry)
        former = [self._name(region, industry)] if self.rng.random() < 0.02 else []
        lat, lon = self._coords(region["code"])
        listed = self.rng.random() < 0.005
        address = self._address(region)
        ent = {
            "id": eid, "uscc": uscc, "name": name, "former_names": former, "legal_rep": self._person(),
            "address": address, "production_address": address if self.rng.random() < 0.7 else self._address(region),
            "region_code": region["code"], "industry_code": industry, "latitude": lat, "longitude": lon,
            "contact_phone": self._phone(region["code"]), "is_listed": listed,
            "stock_code": (self.rng.choice(catalog.STOCK_PREFIXES) + f"{self.rng.randint(0, 999):03d}") if listed else "",
            "is_bond_issuer": listed or self.rng.random() < 0.01,
            "search_tokens": bigram_doc(" ".join([name, *former]), region["code"], industry),
            "created_at": self.now, "updated_at": self.now,
        }
        bundle = Bundle(ent)
        if index == 0 or self.rng.random() < 0.7:
            self._permit(bundle, region, industry, lat, lon, demo=index == 0)
        return bundle

    def _permit(self, bundle: Bundle, region: dict, industry: str, lat: Decimal, lon: Decimal,
                demo: bool = False) -> None:
        ent = bundle.enterprise
        key_class = self.rng.random() < 0.55 or demo
        valid_to = self._valid_to()
        city = self.regions[region["code"][:4] + "00"]["name"]
        permit = {"id": self._next_id("permits"), "enterprise_id": ent["id"], "permit_no": f"{ent['uscc']}001P",
                  "management_class": "key" if key_class else "simplified",
                  "valid_from": valid_to - timedelta(days=5 * 365 + 1), "valid_to": valid_to,
                  "issued_by": f"{city}生态环境局", "created_at": self.now, "updated_at": self.now}
        bundle.permits.append(permit)
        _, template, unit_types = catalog.INDUSTRY_PROFILES[industry]
        for spec in catalog.OUTLETS[template]:
            self._outlet(bundle, permit["id"], spec, lat, lon)
        if key_class and (self.rng.random() < 0.45 or demo):
            chosen = sorted(set(self.rng.sample(unit_types, k=self.rng.randint(1, len(unit_types)))))
            bundle.key_units.extend({"id": self._next_id("key_unit_years"), "enterprise_id": ent["id"],
                                     "year": self.today.year, "unit_type": t} for t in chosen)

    def _outlet(self, bundle: Bundle, permit_id: int, spec: catalog.OutletSpec, lat: Decimal, lon: Decimal) -> None:
        water = spec.code.startswith("DW")
        destination = (self.rng.choice(("间接排放：园区污水处理厂", "直接排放：附近地表水体")) if water else "大气环境")
        if spec.name == "污水处理厂出水口":
            destination = "直接排放：附近地表水体"
        o_lat = lat + Decimal(f"{self.rng.uniform(-0.002, 0.002):.6f}")
        o_lon = lon + Decimal(f"{self.rng.uniform(-0.002, 0.002):.6f}")
        inside = self._sampler(bundle.enterprise["region_code"])
        if inside is not None:  # stay inside the county: on a sampling row, or at the enterprise itself
            snapped = inside.snap(float(o_lat), float(o_lon))
            o_lat, o_lon = (Decimal(f"{snapped[0]:.6f}"), Decimal(f"{snapped[1]:.6f}")) if snapped else (lat, lon)
        outlet = {"id": self._next_id("outlets"), "enterprise_id": bundle.enterprise["id"], "permit_id": permit_id,
                  "code": spec.code, "name": spec.name, "outlet_type": spec.outlet_type,
                  "latitude": o_lat, "longitude": o_lon,
                  "destination": destination, "created_at": self.now, "updated_at": self.now}
        bundle.outlets.append(outlet)
        for lim in spec.limits:
            bundle.limits.append({
                "id": self._next_id("outlet_limits"), "outlet_id": outlet["id"], "pollutant_code": lim.pollutant,
                "limit_value": Decimal(lim.value) if lim.value is not None else None,
                "limit_min": Decimal(lim.range[0]) if lim.range else None,
                "limit_max": Decimal(lim.range[1]) if lim.range else None,
                "unit": self.units[lim.pollutant], "averaging": lim.averaging,
                "reference_o2": Decimal(lim.reference_o2) if lim.reference_o2 else None,
                "standard_code": lim.standard, "created_at": self.now, "updated_at": self.now})

    def bundles(self, n: int) -> Iterator[Bundle]:
        for i in range(n):
            yield self.enterprise(i)
