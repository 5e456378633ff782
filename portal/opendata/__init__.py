"""Open data: HTTP caching/CORS for the API, bulk CSV, Atom and iCalendar feeds, e-mail subscriptions."""
