"""Reports of data errors on the public enterprise page, tracked like complaints (PRODUCT §2.7, issue 7)."""
