"""Valid Vietnamese content payloads and a way to break one field at a time."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

TITLE = "Thông cáo báo chí: Đẩy mạnh chuyển đổi số trong dịch vụ công"
PARAGRAPH = (
    "Sáng nay, tại Hà Nội, Bộ đã tổ chức họp báo thường kỳ để công bố kết quả triển khai dịch vụ công "
    "trực tuyến toàn trình. Đồng chí Thứ trưởng chủ trì; đại diện các đơn vị trực thuộc cùng tham dự. "
)


def valid_payload(content_id: str = "tcbc-001", version: int = 1) -> dict[str, Any]:
    return {
        "id": content_id,
        "version": version,
        "title": TITLE,
        "summary": "Kết quả chín tháng và kế hoạch đến cuối năm.",
        "body": "<p>" + PARAGRAPH * 5 + "</p><p><a href='https://bo.gov.vn'>Cổng thông tin</a></p>",
        "tags": ["chuyển đổi số", "dịch vụ công"],
        "unit": "Vụ Truyền thông và Báo chí",
        "kind": "press_release",
        "approved_by": "Chánh Văn phòng",
        "approved_at": datetime.now(UTC).isoformat(),
        "targets": [{"channel": "website", "account": "main"}, {"channel": "x", "account": "bo_truyenthong"}],
    }


def submitted_payload(content_id: str = "tcbc-001", version: int = 1) -> dict[str, Any]:
    """What a content system sends the ingest: no ``approved_by`` (the ingest sets the account it
    authenticates), the approver it recorded as ``approver_claim``."""
    payload = valid_payload(content_id, version)
    payload["approver_claim"] = payload.pop("approved_by")
    return payload


def with_(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``payload`` with ``path`` (``media.0.key``) set to ``value``; ``...`` deletes it."""
    result = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return result
