"""Each role's home after login: its work, counted, each count linking to a filtered, paged list. The package sits
above the domains it composes (credit, complaints, disclosures, monitoring, integrity, enterprises, auth,
workdays) and only reads them."""
