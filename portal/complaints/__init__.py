"""12369-style environmental complaints: public intake, tracking, regulator handling, Open311 GeoReport v2."""
