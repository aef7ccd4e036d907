"""``python -m services.webhook``: the webhook channel's publisher."""

from loa.publisher.main import run
from services.webhook.adapter import WebhookAdapter
from services.webhook.settings import WebhookSettings

if __name__ == "__main__":
    run(WebhookAdapter, WebhookSettings())
