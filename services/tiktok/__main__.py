"""``python -m services.tiktok``: the TikTok publisher on the shared runtime."""

from loa.publisher.main import run
from services.tiktok.adapter import TikTokAdapter
from services.tiktok.settings import TikTokSettings

if __name__ == "__main__":
    run(TikTokAdapter, TikTokSettings())
