"""E-mail outbox: written in the transaction that causes the mail, sent by a job."""
