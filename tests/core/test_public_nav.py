"""The public header and footer reach the lists, results, complaint tracking, statistics, draws and /verify."""
from __future__ import annotations

import pytest

PATHS = ("/credit/lists/black", "/credit/lists/white", "/credit/results", "/complaints/track",
         "/complaints/statistics", "/credit/draws", "/verify")


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_public_page_links_the_public_information(client, db, lang):
    page = client.get(f"/?lang={lang}").get_data(as_text=True)
    for path in PATHS:
        assert f'href="{path}"' in page, path
        assert client.get(path).status_code == 200, path
    assert ("公开信息" if lang == "zh_CN" else "Public information") in page
