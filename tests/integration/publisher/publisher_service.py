"""The fake channel as a service process (for the crash and replica tests): ``run(FakeAdapter, settings)``."""

from publisher_fake import FakeAdapter

from loa.publisher.main import run
from loa.publisher.settings import PublisherSettings

if __name__ == "__main__":
    run(FakeAdapter, PublisherSettings())
