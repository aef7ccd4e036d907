"""What the website server counts as a view of an article page (services/website/views.py)."""

from __future__ import annotations

import pytest

from services.website.views import counts_as_view, is_bot, key_of_path

pytestmark = pytest.mark.unit

ARTICLE = "2026/12/so-tttt-da-nang-cong-bo-lich-tiep-cong-dan-6yart001.html"

PEOPLE = {
    # Zalo's in-app browser: how most readers of a Zalo OA article open the website's link
    "zalo_android": "Mozilla/5.0 (Linux; Android 13; SM-A536E Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36 Zalo android/12100640 "
    "ZaloTheme/light ZaloLanguage/vi",
    "facebook_ios": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 "
    "[FBAN/FBIOS;FBAV/446.0.0.35.107;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBLC/vi_VN]",
    "coc_coc": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "coc_coc_browser/118.0.228 Chrome/112.0.5615.228 Safari/537.36",
    "firefox": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "safari_mac": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "edge": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
    "linkedin_app": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 LinkedInApp/9.29.6",
}

# Instances of monperrus/crawler-user-agents (crawler-user-agents.json, commit 7c7f9f2: Cốc Cốc's
# crawler among them), plus what httpx and curl send.
BOTS = {
    "googlebot": "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "googlebot_smartphone": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/W.X.Y.Z Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "bingbot": "Mozilla/5.0 (Windows Phone 8.1; ARM; Trident/7.0; Touch; rv:11.0; IEMobile/11.0; NOKIA; "
    "Lumia 530) like Gecko (compatible; adidxbot/2.0; +http://www.bing.com/bingbot.htm)",
    "coccoc": "Mozilla/5.0 (compatible; coccoc/1.0; +http://help.coccoc.com/searchengine)",
    "facebook_preview": "facebookexternalhit/1.0 (+http://www.facebook.com/externalhit_uatext.php)",
    "applebot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1) AppleWebKit/600.2.5 (KHTML, like Gecko) "
    "Version/8.0.2 Safari/600.2.5 (Applebot/0.1)",
    "headless_chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/74.0.3729.169 Safari/537.36",
    "gptbot": "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
    "python_requests": "python-requests/2.9.2",
    "go": "Go-http-client/1.1",
    "httpx": "python-httpx/0.28.1",
    "curl": "curl/8.5.0",
    "empty": "",
}


@pytest.mark.parametrize("agent", PEOPLE.values(), ids=PEOPLE.keys())
def test_a_persons_browser_counts_in_app_browsers_too(agent: str) -> None:
    assert not is_bot(agent)
    assert counts_as_view("GET", 200, ARTICLE, agent)


@pytest.mark.parametrize("agent", BOTS.values(), ids=BOTS.keys())
def test_crawlers_previewers_and_tools_do_not_count(agent: str) -> None:
    assert is_bot(agent)
    assert not counts_as_view("GET", 200, ARTICLE, agent)


def test_no_user_agent_at_all_is_not_a_person() -> None:
    assert is_bot(None)


@pytest.mark.parametrize(
    ("method", "status", "counted"),
    [
        ("GET", 200, True),
        ("GET", 304, True),  # the reader's browser shows its copy again (a reload, a return visit)
        ("HEAD", 200, False),  # nobody is shown a page
        ("GET", 206, False),
        ("GET", 404, False),
        ("GET", 410, False),
        ("GET", 503, False),
    ],
)
def test_only_pages_shown_count(method: str, status: int, counted: bool) -> None:
    assert counts_as_view(method, status, ARTICLE, PEOPLE["firefox"]) is counted


@pytest.mark.parametrize(
    "key",
    ["index.html", "chu-de/chuyen-doi-so/index.html", "don-vi/so-tttt/trang-2.html", "rss.xml",
     "media/" + "a" * 64, "assets/style.0123abcd.css", "2026/12/anh.jpg", "404.html"],
)  # fmt: skip
def test_only_article_pages_count(key: str) -> None:
    assert not counts_as_view("GET", 200, key, PEOPLE["firefox"])


def test_an_article_path_maps_to_its_key_and_nothing_else_does() -> None:
    assert key_of_path("/" + ARTICLE) == ARTICLE
    assert key_of_path(ARTICLE) is None
    assert key_of_path("/2026/12/") is None
    assert key_of_path("/../2026/12/x.html") is None
    assert key_of_path("/2026/12/a/b.html") is None
