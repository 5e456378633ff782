"""gunicorn settings read from the working directory (`make run`, scripts/run.sh).

The access log records the method, the path WITHOUT its query string, the status, the size and the time taken:
never a query string (an Open311 partner's api_key, search text, a case number), never a referrer, never the
client's address, in line with portal/core/logs.py."""

access_log_format = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
