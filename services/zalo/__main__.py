"""``python -m services.zalo``: the Zalo OA publisher."""

from loa.publisher.main import run
from services.zalo.adapter import ZaloAdapter
from services.zalo.settings import ZaloSettings

if __name__ == "__main__":
    run(ZaloAdapter, ZaloSettings())
