"""Scheduled jobs: registry, runner, APScheduler process."""
