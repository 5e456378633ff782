import pytest


@pytest.fixture(autouse=True)
def request_ctx(app_ctx):
    """Translated messages (flask_babel) need a request context, as in a real request."""
    with app_ctx.test_request_context():
        yield
