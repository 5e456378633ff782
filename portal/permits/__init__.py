"""Pollutant discharge permit duties beyond the registry record (排污许可管理办法, 生态环境部令第32号; DOMAIN §5.11):
execution-report obligations per permit and period, their per-year annual deadlines, and shutdown (停产) periods."""
