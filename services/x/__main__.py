"""``python -m services.x``: the X publisher."""

from loa.publisher.main import run
from services.x.adapter import XAdapter
from services.x.settings import XSettings

if __name__ == "__main__":
    run(XAdapter, XSettings())
