"""``python -m services.youtube``: the YouTube publisher on the shared runtime."""

from loa.publisher.main import run
from services.youtube.adapter import YouTubeAdapter
from services.youtube.settings import YouTubeSettings

if __name__ == "__main__":
    run(YouTubeAdapter, YouTubeSettings())
