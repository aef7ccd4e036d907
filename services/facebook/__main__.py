"""``python -m services.facebook``: the Facebook publisher on the shared runtime."""

from loa.publisher.main import run
from services.facebook.adapter import FacebookAdapter
from services.facebook.settings import FacebookSettings

if __name__ == "__main__":
    run(FacebookAdapter, FacebookSettings())
