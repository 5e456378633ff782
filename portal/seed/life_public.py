"""Demo complaints through the real intake and handling services: web, WeChat and 12345-dispatched cases in every
state, some with photos drawn by Pillow (a hazy chimney, a discoloured outfall) that go through the same upload
checks as a citizen's file. Substantiated results become credit findings (confirmed later with the others).
A seeding edge: it commits once at the end."""
from __future__ import annotations

import io
import random
from datetime import date, timedelta

from PIL import Image, ImageDraw

from portal.complaints import handling, intake
from portal.complaints.models import Category, Channel, Findings, RejectionCode, Status
from portal.complaints.uploads import prepare_upload
from portal.enterprises.models import Enterprise
from portal.extensions import db

# Every state a case can be in, in the order of the handling steps (DOMAIN §6.9).
STATES = (Status.RECEIVED, Status.REJECTED, Status.ACCEPTED, Status.ASSIGNED, Status.INVESTIGATING,
          Status.RESULT_REPORTED, Status.REPLIED, Status.CLOSED)
_TEXTS = {
    Category.AIR: "傍晚烟囱冒出大量黄色浓烟，周边有明显刺鼻气味，持续约一小时。",
    Category.WATER: "厂区排口向河道排放发黑发臭的污水，河面有泡沫漂浮。",
    Category.NOISE: "夜间十一点后厂区仍有机器轰鸣声，影响附近居民休息。",
    Category.SOLID_WASTE: "厂区围墙外露天堆放大量废料桶，部分已破损渗漏。",
}


def _id_no(n: int) -> str:
    """A fictional resident ID number (GB 11643 check digit) for a named demo reporter."""
    body = f"32082619800101{n % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def photo(rng: random.Random, category: Category) -> bytes:
    """A small JPEG: sky, ground and either a smoking chimney or a dark outfall plume."""
    img = Image.new("RGB", (640, 480), (150 + rng.randint(0, 40), 170, 190))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 330, 640, 480), fill=(90, 100, 80))
    if category == Category.WATER:
        draw.rectangle((0, 360, 640, 480), fill=(60, 80, 90))
        draw.ellipse((220, 370, 480, 460), fill=(30, 30, 25))
    else:
        x = rng.randint(200, 420)
        draw.rectangle((x, 120, x + 40, 330), fill=(120, 110, 100))
        for i in range(6):
            draw.ellipse((x - 20 + i * 25, 40 - i * 5, x + 60 + i * 30, 120 - i * 4), fill=(200, 180, 90))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _advance(c, target: Status, regulator, lead, handler) -> None:
    if target == Status.RECEIVED:
        return
    if target == Status.REJECTED:
        handling.reject_complaint(c, regulator, RejectionCode.OTHER_LEGAL_ROUTE,
                                  "属于劳动争议，请向当地劳动保障监察部门反映。")
        return
    handling.accept_complaint(c, regulator)
    if target == Status.ACCEPTED:
        return
    handling.dispatch_complaint(c, lead, handler.id)
    if target == Status.ASSIGNED:
        return
    handling.start_investigation(c, handler)
    if target == Status.INVESTIGATING:
        return
    # Cases that reach a reply are substantiated (they carry the rewards); earlier ones alternate.
    substantiated = c.enterprise_id is not None and (target in (Status.REPLIED, Status.CLOSED) or c.id % 2 == 0)
    handling.report_result(c, handler, Findings.SUBSTANTIATED if substantiated else Findings.NOT_SUBSTANTIATED,
                           "经现场检查，" + ("反映问题属实，已责令企业立即整改并立案调查。" if substantiated
                                         else "企业污染防治设施运行正常，未发现反映的问题。"))
    if target == Status.RESULT_REPORTED:
        return
    handling.reply_complaint(c, handler, "您反映的问题已核查处理，处理结果如下：" + c.findings_text)
    if target == Status.REPLIED:
        return
    handling.close_complaint(c, handler)


def seed_complaints(rng: random.Random, enterprises: list[Enterprise], regulator, lead, handler, today: date,
                    per_state: int = 2) -> dict[str, int]:
    """per_state cases in each state, about a third from 12345 with the hotline's ticket and due date; every other
    case has a photo. Returns counts per status and channel."""
    counts: dict[str, int] = {}
    categories = list(_TEXTS)
    n = 0
    for target in STATES:
        for _ in range(per_state):
            ent = enterprises[n % len(enterprises)]
            category = categories[n % len(categories)]
            hotline = n % 3 == 2
            named = n % 4 == 1 or target in (Status.REPLIED, Status.CLOSED)  # a reward needs a real name
            files = []
            if n % 2 == 0:
                files.append(prepare_upload(f"现场照片{n}.jpg", io.BytesIO(photo(rng, category)),
                                            5 * 1024 * 1024, 40_000_000))
            data = intake.Intake(
                category=category, description=_TEXTS[category], enterprise_uscc=ent.uscc,
                observed_at=None, anonymous=not named,
                identity={"name": "张先生", "phone": f"1390517{n:04d}", "id_no": _id_no(n)} if named else {},
                channel=Channel.DISPATCH_12345 if hotline else (Channel.WECHAT if n % 5 == 0 else Channel.WEB),
                external_ticket=f"12345-{today.year}-{n + 1:06d}" if hotline else "",
                external_due_on=today + timedelta(days=10) if hotline else None,
                partner="淮安市12345政务服务便民热线" if hotline else "")
            c, _code = intake.submit_complaint(data, files)
            _advance(c, target, regulator, lead, handler)
            counts[c.status.value] = counts.get(c.status.value, 0) + 1
            counts[f"channel:{c.channel.value}"] = counts.get(f"channel:{c.channel.value}", 0) + 1
            counts["photos"] = counts.get("photos", 0) + len(files)
            n += 1
    db.session.commit()
    return counts
