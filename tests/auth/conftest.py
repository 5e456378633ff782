import pytest


@pytest.fixture
def request_ctx(app):
    """Messages are translated per request (locale from the request), so rule tests run inside one, in English."""
    with app.test_request_context("/?lang=en"):
        yield


@pytest.fixture
def en(client):
    """The client browses in English (the default is Chinese), so assertions can quote the English messages."""
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    return client
