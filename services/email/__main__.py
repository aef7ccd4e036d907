"""``python -m services.email``: the e-mail channel's publisher."""

from loa.publisher.main import run
from services.email.adapter import EmailAdapter
from services.email.settings import EmailSettings

if __name__ == "__main__":
    run(EmailAdapter, EmailSettings())
