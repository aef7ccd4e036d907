"""Dashboard labels: Vietnamese by default, English on request."""

from __future__ import annotations

from datetime import date, datetime

from loa.events import DEFAULT_TIMEZONE, ErrorClass
from services.tracker.views import DeliveryOut

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

LABELS: dict[str, tuple[str, str]] = {
    "app": ("Loa — Theo dõi phát hành", "Loa — Delivery tracker"),
    "overview": ("Tổng quan", "Overview"),
    "units_report": ("Báo cáo theo đơn vị", "Report by unit"),
    "logout": ("Đăng xuất", "Sign out"),
    "login": ("Đăng nhập", "Sign in"),
    "token": ("Mã truy cập (token)", "Access token"),
    "login_failed": ("Mã truy cập không đúng.", "That token is not valid."),
    "login_throttled": (
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ít phút.",
        "Too many failed sign-ins. Try again in a few minutes.",
    ),
    "login_sso": ("Đăng nhập bằng tài khoản cơ quan (SSO)", "Sign in with your office account (SSO)"),
    "login_token_for_services": (
        "Tài khoản dịch vụ và môi trường phát triển: đăng nhập bằng mã truy cập.",
        "Service accounts and development: sign in with an access token.",
    ),
    "oidc_failed": (
        "Đăng nhập không thành công: yêu cầu đăng nhập không hợp lệ hoặc đã hết hạn. Vui lòng thử lại.",
        "Sign-in failed: the sign-in request was invalid or has expired. Please try again.",
    ),
    "oidc_no_role": (
        "Tài khoản của bạn chưa được giao vai trò nào trong Loa. Liên hệ quản trị viên.",
        "Your account has no role in Loa yet. Ask an administrator.",
    ),
    "oidc_denied": (
        "Nhà cung cấp định danh đã từ chối đăng nhập.",
        "The identity provider refused the sign-in.",
    ),
    "oidc_unavailable": (
        "Không kết nối được nhà cung cấp định danh. Vui lòng thử lại sau.",
        "The identity provider cannot be reached. Try again later.",
    ),
    "signing_in": ("Đang đăng nhập…", "Signing in…"),
    "signing_out": ("Đang đăng xuất khỏi nhà cung cấp định danh…", "Signing out at the identity provider…"),
    "continue": ("Tiếp tục", "Continue"),
    "all_units": ("mọi đơn vị", "all units"),
    "role_viewer": ("xem", "viewer"),
    "role_editor": ("biên tập", "editor"),
    "role_spokesperson": ("người phát ngôn", "spokesperson"),
    "role_operator": ("vận hành", "operator"),
    "role_admin": ("quản trị", "admin"),
    "published_today": ("Đã đăng hôm nay", "Published today"),
    "scheduled": ("Đang chờ / đã lên lịch", "Waiting / scheduled"),
    "in_progress": ("Đang xử lý", "In progress"),
    "failing": ("Thất bại", "Failing"),
    "needs_attention": ("Cần xử lý", "Needs attention"),
    "problems": ("Sự cố cần xử lý", "Problems"),
    "no_problems": ("Không có sự cố nào. Mọi thứ đều ổn.", "No problems. All good."),
    "recent": ("Nội dung gần đây", "Recent contents"),
    "search": ("Tìm theo tiêu đề hoặc mã", "Search by title or id"),
    "find": ("Tìm", "Search"),
    "content": ("Nội dung", "Content"),
    "channel": ("Kênh", "Channel"),
    "account": ("Tài khoản", "Account"),
    "state": ("Trạng thái", "State"),
    "reason": ("Lý do", "Reason"),
    "actions": ("Thao tác", "Actions"),
    "retry": ("Thử lại", "Retry"),
    "cancel": ("Hủy", "Cancel"),
    "retract": ("Gỡ khỏi mọi kênh", "Retract everywhere"),
    "retract_prompt": ("Lý do gỡ bài (bắt buộc):", "Reason for retracting (required):"),
    "confirm_cancel": ("Hủy lần đăng này?", "Cancel this delivery?"),
    "sent": ("Đã gửi yêu cầu. Trạng thái sẽ tự cập nhật.", "Request sent. The state updates by itself."),
    "failed_action": ("Không gửi được yêu cầu", "The request failed"),
    "unit": ("Đơn vị", "Unit"),
    "approved": ("Duyệt", "Approved"),
    "approved_by": ("Người duyệt", "Approved by"),
    "approver_claim": (
        "Người duyệt theo hệ thống gửi (chưa xác minh)",
        "Approver claimed by the sender (unverified)",
    ),
    "approvals": ("Chờ phê duyệt", "Awaiting approval"),
    "approvals_intro": (
        "Nội dung do biên tập viên gửi cho đơn vị áp dụng quy tắc hai người: chỉ được phát hành khi "
        "người phát ngôn của đơn vị (không phải người gửi) phê duyệt.",
        "Content an editor submitted for a two-person unit: it goes out only once a spokesperson of "
        "the unit (not the submitter) approves it.",
    ),
    "approvals_none": ("Không có nội dung nào chờ phê duyệt.", "Nothing awaits approval."),
    "approvals_own": (
        "Bạn đã gửi nội dung này: một người khác phê duyệt hoặc từ chối.",
        "You submitted this: another person approves or rejects it.",
    ),
    "approvals_person_only": (
        "Trang này dành cho người đăng nhập bằng tài khoản cơ quan (SSO).",
        "This page is for people signed in with the office account (SSO).",
    ),
    "approvals_sign_in_again": (
        "Phiên đăng nhập đã quá hạn với hệ thống tiếp nhận: vui lòng đăng xuất rồi đăng nhập lại.",
        "Your sign-in is too old for the ingest: sign out and sign in again.",
    ),
    "approvals_unavailable": (
        "Không kết nối được hệ thống tiếp nhận (ingest). Vui lòng thử lại sau.",
        "The ingest cannot be reached. Try again later.",
    ),
    "submitted_by": ("Người gửi", "Submitted by"),
    "preview_as": ("Xem trước trên", "Preview on"),
    "characters": ("ký tự (theo cách kênh đếm)", "characters (as the channel counts)"),
    "targets": ("Kênh đăng", "Targets"),
    "approve": ("Phê duyệt", "Approve"),
    "reject": ("Từ chối", "Reject"),
    "reject_reason": ("Lý do từ chối (bắt buộc)", "Why (required)"),
    "due": ("Giờ đăng dự kiến", "Due"),
    "attempt": ("Lần thử", "Attempt"),
    "link": ("Liên kết", "Link"),
    "open_post": ("Xem bài", "Open post"),
    "engagement_at": ("Tương tác, đọc lúc", "Engagement, read at"),
    "recipients": ("Người nhận", "Recipients"),
    "recipients_of": ("Người nhận của lần gửi", "Recipients of this delivery"),
    "recipient": ("Người nhận", "Recipient"),
    "outlet": ("Cơ quan báo chí", "Outlet"),
    "smtp_code": ("Mã SMTP", "SMTP code"),
    "smtp_reply": ("Phản hồi của máy chủ thư", "Mail server's reply"),
    "recipient_id": ("Mã người nhận", "Recipient id"),
    "recipients_hidden": (
        "Tên và cơ quan báo chí chỉ hiển thị với người được quản lý danh sách báo chí của đơn vị;"
        " người nhận ở đây được ghi bằng mã.",
        "Names and outlets show only to who may manage the unit's press list; recipients here go by id.",
    ),
    "recipients_none": (
        "Chưa có báo cáo theo người nhận (báo cáo đến cùng kết quả gửi).",
        "No per-recipient report yet (it comes with the sending's result).",
    ),
    "recipient_gone": ("(không còn trong danh sách)", "(no longer on the list)"),
    "delivery": ("Lần đăng", "Delivery"),
    "metric_impressions": ("Lượt hiển thị", "Impressions"),
    "metric_reach": ("Người tiếp cận", "Reach"),
    "metric_views": ("Lượt xem", "Views"),
    "metric_reactions": ("Cảm xúc/Thích", "Reactions/likes"),
    "metric_comments": ("Bình luận", "Comments"),
    "metric_shares": ("Chia sẻ", "Shares"),
    "metric_quotes": ("Trích dẫn", "Quotes"),
    "metric_bookmarks": ("Lưu", "Bookmarks"),
    "target_host": ("Máy chủ đã gửi tới", "Host the post was sent to"),
    "deliveries": ("Các kênh phát hành", "Deliveries"),
    "timeline": ("Diễn biến", "Timeline"),
    "when": ("Thời điểm", "When"),
    "what": ("Sự kiện", "Event"),
    "who": ("Bởi", "By"),
    "details": ("Chi tiết", "Details"),
    "retracted_note": ("Đã yêu cầu gỡ", "Retraction requested"),
    "corrects": ("Đính chính cho", "Correction of"),
    "corrected_by": ("Đã được đính chính bởi", "Corrected by"),
    "urgent": ("Khẩn", "Urgent"),
    "urgent_hint": ("Tin khẩn: phát trước mọi tin đang chờ", "Urgent: sent before any waiting post"),
    "from": ("Từ ngày", "From"),
    # reports for leadership (/reports)
    "reports": ("Báo cáo lãnh đạo", "Reports for leadership"),
    "calendar": ("Lịch phát hành", "Planning calendar"),
    "archive": ("Lưu trữ", "Archive"),
    "archive_intro": (
        "Hồ sơ lưu trữ của mọi phiên bản, nội dung đã gửi và phản hồi của từng nền tảng, kể cả đính chính "
        "và gỡ bỏ. Tìm theo từ trong tiêu đề (có hoặc không dấu), đơn vị, kênh, thời gian duyệt.",
        "The record of every version, what was sent and each platform's answer, corrections and "
        "retractions included. Search by title words (with or without diacritics), unit, channel, period.",
    ),
    "archive_words": ("Từ trong tiêu đề", "Title words"),
    "archive_from": ("Từ ngày", "From"),
    "archive_to": ("Đến ngày", "To"),
    "archive_search": ("Tìm", "Search"),
    "archive_found": ("Kết quả", "Found"),
    "archive_none": ("Không có nội dung nào khớp.", "No content matches."),
    "archive_export": ("Tải hồ sơ (ZIP có chữ ký)", "Download the record (signed ZIP)"),
    "archive_export_period": ("Tải hồ sơ của cả giai đoạn", "Download the whole period's record"),
    "archive_verify_hint": (
        "Kiểm tra tệp tải về: loa archive verify TỆP.zip --public-key KHOÁ-CÔNG-KHAI",
        "Check a download: loa archive verify FILE.zip --public-key PUBLIC-KEY",
    ),
    "archive_approved": ("Duyệt lúc", "Approved"),
    "calendar_intro": (
        "Bài đã đăng và đã lên lịch theo ngày, giờ Việt Nam; bài tạm dừng có viền gạch và nhãn “Tạm dừng”.",
        "Published and scheduled posts by day, Vietnam time; held posts are dashed and marked “Held”.",
    ),
    "calendar_drag_hint": (
        "Kéo một bài đã lên lịch sang ngày khác để dời lịch (giữ nguyên giờ), hoặc dùng nút “Dời lịch”.",
        "Drag a scheduled post to another day to move it (same time of day), or use “Move”.",
    ),
    "calendar_view": ("Dạng xem", "View"),
    "calendar_month": ("Tháng", "Month"),
    "calendar_week": ("Tuần", "Week"),
    "calendar_day": ("Ngày", "Day"),
    "calendar_before": ("Trước", "Previous"),
    "calendar_after": ("Sau", "Next"),
    "calendar_today": ("Hôm nay", "Today"),
    "calendar_move": ("Dời lịch", "Move"),
    "calendar_held_hint": (
        "Đang tạm dừng phát hành: bài sẽ không đăng cho đến khi tiếp tục",
        "Held: it will not go until the hold is released",
    ),
    "calendar_truncated": (
        "Quá nhiều bài trong khoảng này: chỉ hiện một phần. Hãy lọc theo đơn vị hoặc kênh.",
        "Too many posts in this range: only some are shown. Filter by unit or channel.",
    ),
    "calendar_tz": ("Giờ hiển thị: Asia/Ho_Chi_Minh (UTC+7).", "Times shown: Asia/Ho_Chi_Minh (UTC+7)."),
    "calendar_feeds": ("Lịch cho ứng dụng lịch (iCalendar)", "Calendar feeds (iCalendar)"),
    "calendar_feeds_intro": (
        "Mỗi liên kết mở lịch của một đơn vị, chỉ để xem, trong Google Calendar, Outlook hay Lịch của "
        "Apple (thêm lịch theo URL). Liên kết chỉ hiện một lần khi tạo; thu hồi khi không còn dùng.",
        "Each link opens one unit's calendar, read-only, in Google Calendar, Outlook or Apple Calendar "
        "(subscribe by URL). The link is shown once, when issued; revoke it when no longer needed.",
    ),
    "calendar_feed_issue": ("Tạo liên kết", "Issue a link"),
    "calendar_feed_new": (
        "Liên kết mới (sao chép ngay, sẽ không hiện lại)",
        "The new link (copy it now, it is not shown again)",
    ),
    "calendar_feed_revoke": ("Thu hồi", "Revoke"),
    "calendar_feed_revoked": ("Đã thu hồi", "Revoked"),
    "calendar_feed_active": ("Đang dùng", "Active"),
    "calendar_feed_confirm_revoke": (
        "Thu hồi liên kết lịch này? Ứng dụng lịch đang dùng nó sẽ không đọc được nữa.",
        "Revoke this calendar link? Calendars using it will stop updating.",
    ),
    "calendar_feeds_none": ("Chưa có liên kết nào.", "No links issued yet."),
    "created_by": ("Người tạo", "Created by"),
    "created_at": ("Lúc tạo", "Created"),
    "mon": ("Thứ Hai", "Mon"),
    "tue": ("Thứ Ba", "Tue"),
    "wed": ("Thứ Tư", "Wed"),
    "thu": ("Thứ Năm", "Thu"),
    "fri": ("Thứ Sáu", "Fri"),
    "sat": ("Thứ Bảy", "Sat"),
    "sun": ("Chủ Nhật", "Sun"),
    "reports_intro": (
        "Theo đơn vị và kênh: số bài đã đăng, tỷ lệ đúng giờ, lỗi, bài đã gỡ, số liệu tương tác mới "
        "nhất của mỗi bài (do bộ lắng nghe đọc từ nền tảng), bình luận và cảnh báo tin sai lệch cùng "
        "tốc độ trả lời. Một lượt phát hành thuộc kỳ theo giờ hẹn đăng (hoặc giờ duyệt), tính theo giờ "
        "Việt Nam.",
        "Per unit and channel: posts published, on-time rate, failures, posts taken down, each post's "
        "latest engagement figures (as the listener read them from the platform), comments and "
        "misinformation alerts with how fast they were answered. A delivery belongs to the range by "
        "its scheduled (or approval) time, in Vietnam's time.",
    ),
    "report_on_time_rule": (
        "Đúng giờ: đăng không quá {s} giây sau giờ hẹn (hoặc giờ duyệt).",
        "On time: published at most {s} s after its scheduled (or approval) time.",
    ),
    "report_listening": ("Bình luận và cảnh báo tin sai lệch", "Comments and misinformation alerts"),
    "report_no_listening": (
        "Không có bình luận hay cảnh báo nào trong kỳ.",
        "No comment or alert in the range.",
    ),
    "report_listening_rule": (
        "Bình luận và cảnh báo tính theo lúc chúng đến trong kỳ. Đã trả lời: bình luận chuyển sang "
        "“đã trả lời” hoặc “đã ẩn”; thời gian trả lời tính từ lúc người dân viết (gồm cả thời gian chờ "
        "bộ lắng nghe đọc). Một cảnh báo được xử lý khi bình luận đầu tiên của bài (hoặc của đơn vị, "
        "với cảnh báo theo đơn vị) được trả lời hoặc ẩn sau khi cảnh báo được phát.",
        "Comments and alerts count by when they came in the range. Answered: a comment moved to "
        "“answered” or “hidden”; the response time runs from when the citizen wrote it (the listener's "
        "polling delay included). An alert is answered when the first comment of its post (or unit, for "
        "a unit's alert) is answered or hidden after the alert was raised.",
    ),
    "comments_received": ("Bình luận nhận được", "Comments received"),
    "comments_answered": ("Bình luận đã trả lời/ẩn", "Comments answered or hidden"),
    "comment_answer_median": ("Thời gian trả lời bình luận (trung vị)", "Comment response time (median)"),
    "comment_answer_median_s": (
        "Thời gian trả lời bình luận, trung vị (giây)",
        "Comment response time, median (s)",
    ),
    "alerts_raised": ("Cảnh báo tin sai lệch", "Misinformation alerts"),
    "alerts_answered": ("Cảnh báo đã xử lý", "Alerts answered"),
    "alert_answer_median": ("Thời gian xử lý cảnh báo (trung vị)", "Alert response time (median)"),
    "alert_answer_median_s": ("Thời gian xử lý cảnh báo, trung vị (giây)", "Alert response time, median (s)"),
    "report_listening_axis": (
        "Bình luận và cảnh báo (đã trả lời / chưa)",
        "Comments and alerts (answered / not yet)",
    ),
    "not_answered": ("Chưa trả lời", "Not answered"),
    "month": ("Tháng", "Month"),
    "custom_range": ("Khoảng thời gian", "Custom range"),
    "through": ("Đến hết ngày", "Through"),
    "all_my_units": ("Mọi đơn vị được xem", "Every unit I may see"),
    "late": ("Trễ", "Late"),
    "not_read": ("chưa có số liệu", "no figures"),
    "report_posts_axis": ("Bài đã đăng (đúng giờ, trễ) và lượt lỗi", "Posts (on time, late) and failures"),
    "report_audience": ("Tiếp cận / lượt xem", "Reach / views"),
    "audience_metric": ("Chỉ số tiếp cận/xem", "Reach/views figure"),
    "col_deliveries": ("Lượt phát hành trong kỳ", "Deliveries due"),
    "on_time_rate": ("Tỷ lệ đúng giờ", "On-time rate"),
    "retracted_n": ("Đã gỡ", "Taken down"),
    "posts_with_figures": ("Bài đã có số liệu", "Posts with figures"),
    "download": ("Tải về", "Download"),
    "to": ("Đến ngày", "To"),
    "show": ("Xem", "Show"),
    "total": ("Tổng", "Total"),
    "published": ("Đã đăng", "Published"),
    "failed_n": ("Lỗi", "Failed"),
    "on_time": ("Đúng giờ", "On time"),
    "latency": ("Độ trễ p50 / p95", "Latency p50 / p95"),
    "causes": ("Nguyên nhân lỗi", "Failure causes"),
    "count": ("Số lần", "Count"),
    "by_channel": ("Theo kênh", "By channel"),
    "live": ("Cập nhật trực tiếp", "Live"),
    "not_found": ("Không tìm thấy nội dung này.", "No such content."),
    "export_csv": ("Xuất CSV", "Export CSV"),
    "no_data": ("Chưa có dữ liệu.", "No data yet."),
    "unknown": ("(chưa rõ)", "(unknown)"),
    "system": ("Tình trạng hệ thống", "System health"),
    "dependencies": ("Hạ tầng của bộ theo dõi", "The tracker's infrastructure"),
    "publishers": ("Bộ phát hành từng kênh", "Channel publishers"),
    "dep_kafka": ("Kafka (hàng đợi sự kiện)", "Kafka (event log)"),
    "dep_database": ("Cơ sở dữ liệu", "Database"),
    "dep_object_store": ("Kho tệp (MinIO)", "Object store (MinIO)"),
    "ready": ("Sẵn sàng", "Ready"),
    "held_n": ("Tạm dừng", "Held"),
    "hold_title": ("Tạm dừng phát hành", "Hold publishing"),
    "hold_help": (
        "Mọi bài chưa đăng trong phạm vi chọn sẽ dừng lại trên mọi kênh trong vài giây; bài đang gửi dở "
        "vẫn hoàn tất. Để trống phạm vi để dừng tất cả.",
        "Every post not yet published in the scope stops on every channel within seconds; one being "
        "sent finishes. Leave the scope empty to hold everything.",
    ),
    "hold_button": ("Tạm dừng phát hành", "Hold publishing"),
    "hold_reason": ("Lý do tạm dừng (bắt buộc)", "Why (required)"),
    "all_channels": ("Mọi kênh", "All channels"),
    "active_holds": ("Đang tạm dừng", "Active holds"),
    "no_holds": ("Không có lệnh tạm dừng nào.", "Nothing is held."),
    "scope_all": ("Tất cả", "Everything"),
    "release": ("Tiếp tục phát hành", "Release"),
    "confirm_release": ("Tiếp tục phát hành các bài đã tạm dừng?", "Release what this hold keeps?"),
    "late_items": ("Bài đã quá giờ trong lúc tạm dừng", "Items whose time passed during the hold"),
    "send_now": ("Đăng ngay", "Send now"),
    "reschedule": ("Đặt lại giờ", "Reschedule"),
    "new_time": ("Giờ đăng mới", "New time"),
    "held_by": ("Người tạm dừng", "Held by"),
    "sandbox_banner": (
        "Chế độ phát triển: bài chỉ đến môi trường giả lập, không người dân nào thấy.",
        "Development mode: posts reach only the emulators; no citizen sees them.",
    ),
    "target_hosts": ("Máy chủ mà bộ phát hành gửi bài tới", "The host the publisher sends posts to"),
    "audit": ("Nhật ký kiểm toán", "Audit log"),
    "accounts": ("Tài khoản kênh", "Channel accounts"),
    "accounts_intro": (
        "Tài khoản của Bộ trên từng kênh, theo đơn vị. "
        "Thông tin đăng nhập chỉ ghi, không bao giờ hiển thị lại; "
        "mỗi thay đổi được ghi vào nhật ký kiểm toán và bộ phát hành của kênh áp dụng trong vài giây.",
        "The office's accounts on each channel, by unit. Credentials are write-only and never shown again; "
        "every change goes to the audit log and the channel's publisher applies it within seconds.",
    ),
    "credentials": ("Thông tin đăng nhập", "Credentials"),
    "credentials_write_only": ("(chỉ ghi; để trống: giữ nguyên)", "(write-only; empty: unchanged)"),
    "credential_name": ("Tên (vd. page_token)", "Name (e.g. page_token)"),
    "credential_value": ("Giá trị", "Value"),
    "options_json": ("Tùy chọn (JSON)", "Options (JSON)"),
    "expires": ("Hết hạn", "Expires"),
    "changed_by": ("Thay đổi bởi", "Changed by"),
    "account_parked": ("Bị từ chối: cần cập nhật", "Refused: needs new credentials"),
    "account_expired": ("Đã hết hạn", "Expired"),
    "account_ok": ("Hoạt động", "OK"),
    "account_add": ("Thêm hoặc sửa tài khoản", "Add or change an account"),
    "no_accounts": ("Chưa có tài khoản nào.", "No accounts yet."),
    "confirm_remove_account": (
        "Xóa tài khoản này? Các bài chờ đăng lên nó sẽ chờ đến khi tài khoản được thêm lại.",
        "Remove this account? Deliveries to it wait until it is added again.",
    ),
    "connect_zalo": ("Kết nối Zalo OA", "Connect a Zalo OA"),
    "connect_zalo_help": (
        "Nhập tên tài khoản, đơn vị và ứng dụng Zalo của Bộ; quản trị viên OA sẽ cấp quyền tại Zalo.",
        "Give the account's name, unit and the office's Zalo app; the OA's admin grants it at Zalo.",
    ),
    "connect_facebook": ("Kết nối Trang Facebook", "Connect a Facebook Page"),
    "connect_facebook_help": (
        "Nhập tên tài khoản, đơn vị và ứng dụng Facebook của Bộ; người quản trị Trang đăng nhập Facebook "
        "và cấp quyền; nếu người đó quản trị nhiều Trang, chọn Trang sau khi đăng nhập (hoặc nhập ID Trang). "
        "Mã truy cập Trang dài hạn không hết hạn.",
        "Give the account's name, unit and the office's Facebook app; the Page's admin signs in to Facebook "
        "and grants it; if they manage several Pages, pick one after signing in (or give the Page's id). "
        "A long-lived Page token does not expire.",
    ),
    "connect_youtube": ("Kết nối kênh YouTube", "Connect a YouTube channel"),
    "connect_youtube_help": (
        "Nhập tên tài khoản, đơn vị và OAuth client của dự án Google Cloud của Bộ; chủ kênh đăng nhập Google "
        "và cho phép tải video lên. Loa lưu refresh token (đã mã hóa) và tự làm mới mã truy cập.",
        "Give the account's name, unit and the OAuth client of the office's Google Cloud project; the "
        "channel's owner signs in to Google and allows uploads. Loa keeps the refresh token (sealed) and "
        "renews access tokens itself.",
    ),
    "connect_x": ("Kết nối tài khoản X", "Connect an X account"),
    "connect_x_help": (
        "Nhập tên tài khoản, đơn vị và OAuth 2.0 client của ứng dụng X của Bộ; chủ tài khoản đăng nhập X "
        "và cấp quyền. Mã truy cập hết hạn sau 2 giờ và được làm mới bằng refresh token.",
        "Give the account's name, unit and the OAuth 2.0 client of the office's X app; the account's owner "
        "signs in to X and grants it. Access tokens last 2 hours and are renewed with the refresh token.",
    ),
    "app_id": ("App ID", "App ID"),
    "secret_key": ("Khóa bí mật của ứng dụng", "App secret key"),
    "app_secret": ("Khóa bí mật của ứng dụng", "App secret"),
    "page_id": ("ID Trang (không bắt buộc)", "Page id (optional)"),
    "client_id": ("Client ID", "Client ID"),
    "client_secret": ("Client secret", "Client secret"),
    "page_token_never_expires": ("Mã Trang dài hạn: không hết hạn", "Long-lived Page token: does not expire"),
    "has_refresh_token": ("có refresh token, tự làm mới", "refresh token stored, renews itself"),
    "connect_pick_facebook": (
        "Người quản trị đã cấp quyền cho nhiều Trang: chọn Trang của tài khoản này.",
        "The admin granted several Pages: pick the Page this account is.",
    ),
    "connect": ("Kết nối", "Connect"),
    "connect_done": ("Đã kết nối tài khoản.", "The account is connected."),
    "connect_denied": (
        "Quyền truy cập đã bị từ chối trên nền tảng: tài khoản chưa được kết nối.",
        "Consent was refused at the platform: the account is not connected.",
    ),
    "connect_refused": (
        "Yêu cầu kết nối không hợp lệ hoặc đã hết hạn: hãy bắt đầu lại từ trang Tài khoản kênh.",
        "This connect request is not valid or has expired: start again from the accounts page.",
    ),
    "connect_failed": ("Nền tảng không cấp mã truy cập.", "The platform did not grant the tokens."),
    "edit": ("Sửa", "Edit"),
    "remove": ("Xóa", "Remove"),
    "save": ("Lưu", "Save"),
    "audit_intro": (
        "Mọi thao tác đã ghi nhận: ai, làm gì, trên nội dung nào, lúc nào, kết quả. "
        "Mỗi dòng được nối chuỗi băm với dòng trước; kiểm tra bằng lệnh loa audit verify.",
        "Every act recorded: who, what, on which content, when, with what outcome. "
        "Each row is hash-chained to the previous one; check it with loa audit verify.",
    ),
    "person": ("Người thực hiện", "Person"),
    "action": ("Thao tác", "Action"),
    "outcome": ("Kết quả", "Outcome"),
    "on_what": ("Đối tượng", "On"),
    "address": ("Địa chỉ", "Address"),
    "all": ("Tất cả", "All"),
    "page_of": ("Trang {page}/{pages} · {total} dòng", "Page {page} of {pages} · {total} rows"),
    "previous": ("Trang trước", "Previous"),
    "next": ("Trang sau", "Next"),
    "incidents": ("Sự cố truyền thông", "Communication incidents"),
    "incident": ("Sự cố", "Incident"),
    "incidents_intro": (
        "Khi một sự cố đang mở, mọi lệnh tạm dừng, bài đính chính, bài khẩn, yêu cầu gỡ bài và ghi chú "
        "trong các đơn vị của nó (kể cả đơn vị trực thuộc) được gom vào một dòng thời gian. Đóng sự cố để "
        "lập báo cáo sau sự cố.",
        "While an incident is open, every hold, correction, urgent post, retraction and note in its units "
        "(and their children) is gathered into one timeline. Close it to produce the after-action report.",
    ),
    "open_incident": ("Mở sự cố", "Open an incident"),
    "incident_title": ("Tên sự cố", "Title"),
    "severity": ("Mức độ", "Severity"),
    "severity_low": ("Thấp", "Low"),
    "severity_medium": ("Trung bình", "Medium"),
    "severity_high": ("Cao", "High"),
    "severity_critical": ("Nghiêm trọng", "Critical"),
    "units_comma": ("Đơn vị (cách nhau bởi dấu phẩy)", "Units (comma-separated)"),
    "opened": ("Mở lúc", "Opened"),
    "opened_by": ("Người mở", "Opened by"),
    "closed": ("Đóng lúc", "Closed"),
    "closed_by": ("Người đóng", "Closed by"),
    "still_open": ("Đang mở", "Open"),
    "lasted": ("Kéo dài", "Lasted"),
    "notes": ("Ghi chú", "Notes"),
    "add_note": ("Thêm ghi chú", "Add a note"),
    "close_note": ("Ghi chú khi đóng (không bắt buộc)", "Closing note (optional)"),
    "close_incident": ("Đóng sự cố", "Close the incident"),
    "confirm_close_incident": (
        "Đóng sự cố và lập báo cáo sau sự cố?",
        "Close the incident and produce its after-action report?",
    ),
    "report": ("Báo cáo sau sự cố", "After-action report"),
    "report_chart": ("Biểu đồ diễn biến", "Timeline chart"),
    "durations": ("Thời gian từng bước", "How long each step took"),
    "step": ("Bước", "Step"),
    "started": ("Bắt đầu", "Started"),
    "ended": ("Kết thúc", "Ended"),
    "duration": ("Thời gian", "Duration"),
    "not_yet": ("chưa xong", "not yet"),
    "said": ("Nội dung, trả lời của nền tảng", "What was said, the platform's answer"),
    "no_incidents": ("Chưa có sự cố nào.", "No incidents yet."),
    "incident_not_found": ("Không tìm thấy sự cố này.", "No such incident."),
    "grouped_correction": ("Đính chính", "Correction"),
    "grouped_urgent": ("Khẩn", "Urgent"),
    "grouped_retraction": ("Gỡ bài", "Retraction"),
    "grouped_hold": ("Tạm dừng", "Hold"),
    "step_hold_effective": ("Tạm dừng → có hiệu lực trên kênh", "Hold → in effect on the channel"),
    "step_correction_published": ("Duyệt đính chính → đã đăng", "Correction approved → published"),
    "step_urgent_published": ("Duyệt bài khẩn → đã đăng", "Urgent post approved → published"),
    "step_retracted": ("Yêu cầu gỡ → đã gỡ", "Retraction requested → retracted"),
    "unavailable": ("Không sẵn sàng", "Unavailable"),
    "unavailable_heading": ("Bảng theo dõi tạm thời gián đoạn", "The tracker is briefly unavailable"),
    "unavailable_message": (
        "Một thành phần hạ tầng không trả lời. Trang sẽ hoạt động lại khi thành phần đó sẵn sàng; "
        "xin thử lại sau ít phút.",
        "A part of the infrastructure does not answer. The page works again once it is back; "
        "try again in a few minutes.",
    ),
    "inbox": ("Bình luận", "Comments"),
    "inbox_intro": (
        "Bình luận và trả lời của người dân trên các bài đã đăng (Facebook, YouTube, X), theo lượt đọc "
        "của bộ theo dõi. Đánh dấu là ghi nhận của cơ quan; trả lời và ẩn (YouTube: giữ lại để duyệt) "
        "được gửi qua bộ đăng của kênh, hiện “đang gửi…” cho đến khi nền tảng trả lời.",
        "Citizens' comments and replies on published posts (Facebook, YouTube, X), as the listener "
        "last read them. A mark is the office's own record; a reply and a hide (YouTube: hold for "
        "review) go through the channel's publisher and show “sending…” until the platform answers.",
    ),
    "watch_alerts": ("Cảnh báo tin sai lệch", "Misinformation alerts"),
    "watch_kind_phrase": ("Cụm từ theo dõi", "Watched phrase"),
    "watch_kind_volume": ("Bình luận tăng đột biến", "Comment spike"),
    "watch_kind_unit_volume": ("Bình luận của đơn vị tăng đột biến", "Unit-wide comment spike"),
    "see_comments": ("Xem bình luận", "See the comments"),
    "publish_correction": ("Đăng đính chính", "Publish a correction"),
    "no_watch_alerts": ("Chưa có cảnh báo.", "No alert yet."),
    "no_comments": ("Không có bình luận nào khớp bộ lọc.", "No comment matches the filter."),
    "keyword": ("Từ khoá", "Keyword"),
    "content_id": ("Mã bài", "Content"),
    "filter": ("Lọc", "Filter"),
    "comment_author": ("Người bình luận", "Author"),
    "comment": ("Bình luận", "Comment"),
    "comment_state": ("Trạng thái", "State"),
    "comment_new": ("Mới", "New"),
    "comment_seen": ("Đã xem", "Seen"),
    "comment_answered": ("Đã trả lời", "Answered"),
    "comment_hidden": ("Đã ẩn", "Hidden"),
    "comment_escalated": ("Chuyển người phát ngôn", "Escalated"),
    "mark": ("Đánh dấu", "Mark"),
    "note": ("Ghi chú", "Note"),
    "matched": ("Khớp", "Matched"),
    "reply": ("Trả lời", "Reply"),
    "reply_as_office": ("Trả lời với tư cách cơ quan", "Reply as the office"),
    "hide_comment": ("Ẩn", "Hide"),
    "hold_for_review": ("Giữ lại để duyệt", "Hold for review"),
    "confirm_hide": (
        "Ẩn bình luận này trên nền tảng? Người viết và bạn bè của họ vẫn thấy nó.",
        "Hide this comment on the platform? Its author and their friends still see it.",
    ),
    "action_sending": ("Đang gửi…", "Sending…"),
    "action_failed": ("Không thực hiện được", "Could not be done"),
    "office_reply": ("Cơ quan đã trả lời", "The office replied"),
}

STATES: dict[str, tuple[str, str]] = {
    "received": ("Đã nhận", "Received"),
    "scheduled": ("Đã lên lịch", "Scheduled"),
    "publishing": ("Đang đăng", "Publishing"),
    "published": ("Đã đăng", "Published"),
    "retrying": ("Đang thử lại", "Retrying"),
    "failed": ("Thất bại", "Failed"),
    "needs_attention": ("Cần xử lý", "Needs attention"),
    "cancelled": ("Đã hủy", "Cancelled"),
    "retracting": ("Đang gỡ", "Retracting"),
    "retracted": ("Đã gỡ", "Retracted"),
    "retract_failed": ("Gỡ thất bại", "Retract failed"),
    "held": ("Tạm dừng", "Held"),
}

EVENTS: dict[str, tuple[str, str]] = {
    "content.approved": ("Được duyệt", "Approved"),
    "content.updated": ("Được cập nhật", "Updated"),
    "content.retracted": ("Yêu cầu gỡ khỏi mọi kênh", "Retraction requested"),
    "delivery.retry": ("Yêu cầu thử lại", "Retry requested"),
    "delivery.cancel": ("Yêu cầu hủy", "Cancel requested"),
    "delivery.release": ("Cho phát hành sau khi tạm dừng", "Released after a hold"),
    "delivery.reschedule": ("Dời lịch đăng", "Rescheduled"),
    "incident.opened": ("Mở sự cố", "Incident opened"),
    "incident.note": ("Ghi chú", "Note"),
    "incident.closed": ("Đóng sự cố", "Incident closed"),
    "hold.placed": ("Tạm dừng phát hành", "Hold placed"),
    "hold.released": ("Tiếp tục phát hành", "Hold released"),
}

AUDIT_ACTIONS: dict[str, tuple[str, str]] = {
    "submit": ("Gửi nội dung", "Submit"),
    "update": ("Cập nhật nội dung", "Update"),
    "approve": ("Phê duyệt", "Approve"),
    "reject": ("Từ chối", "Reject"),
    "retract": ("Gỡ bài", "Retract"),
    "retry": ("Thử lại", "Retry"),
    "cancel": ("Hủy lần đăng", "Cancel"),
    "hold": ("Tạm dừng phát hành", "Hold"),
    "release": ("Tiếp tục phát hành", "Release"),
    "reschedule": ("Dời lịch đăng", "Reschedule"),
    "media_upload": ("Tải tệp lên", "Media upload"),
    "account_change": ("Thay đổi tài khoản kênh", "Account change"),
    "token_issued": ("Cấp mã truy cập", "Token issued"),
    "token_revoked": ("Thu hồi mã truy cập", "Token revoked"),
    "sign_in": ("Đăng nhập", "Sign-in"),
    "sign_in_failed": ("Đăng nhập thất bại", "Failed sign-in"),
    "sign_out": ("Đăng xuất", "Sign-out"),
    "export": ("Xuất dữ liệu", "Export"),
    "incident_open": ("Mở sự cố", "Incident opened"),
    "incident_note": ("Ghi chú sự cố", "Incident note"),
    "incident_close": ("Đóng sự cố", "Incident closed"),
    "comment_state": ("Đánh dấu bình luận", "Comment marked"),
    "comment_reply": ("Trả lời bình luận", "Comment replied to"),
    "comment_moderate": ("Ẩn bình luận", "Comment hidden"),
    "watchlist_change": ("Đổi danh sách theo dõi", "Watchlist changed"),
}

RECIPIENT_STATES: dict[str, tuple[str, str]] = {
    "sent": ("Đã gửi", "Sent"),
    "deferred": ("Đang chờ gửi lại", "Deferred"),
    "bounced": ("Bị trả lại", "Bounced"),
    "complained": ("Khiếu nại", "Complained"),
}
"""``loa.events.delivery.RecipientState``: an e-mail recipient's state (RFC 5321 §4.2.1 reply classes)."""

OUTCOMES: dict[str, tuple[str, str]] = {
    "ok": ("Thành công", "Done"),
    "refused": ("Bị từ chối", "Refused"),
}

CHANNELS: dict[str, str] = {
    "website": "Trang web",
    "facebook": "Facebook",
    "zalo": "Zalo OA",
    "youtube": "YouTube",
    "x": "X",
    "webhook": "Webhook",
    "tiktok": "TikTok",
    "email": "E-mail",
}

REASONS: dict[str, tuple[str, str]] = {
    ErrorClass.AUTH.value: (
        "Tài khoản cần được kết nối lại: mã truy cập hết hạn hoặc thiếu quyền.",
        "The account must be reconnected: its token expired or lacks a permission.",
    ),
    ErrorClass.TRANSIENT.value: (
        "Nền tảng tạm thời lỗi hoặc giới hạn tần suất; hệ thống sẽ tự thử lại.",
        "The platform is temporarily failing or rate-limiting; it will be retried.",
    ),
    ErrorClass.PERMANENT.value: (
        "Bài không thể đăng như hiện tại (quá dài, tệp đính kèm không hợp lệ…).",
        "The post cannot go as it is (too long, invalid media…).",
    ),
    "retract_failed": ("Không gỡ được bài trên nền tảng.", "Taking the post down failed."),
    "needs_attention": ("Cần người kiểm tra.", "A person needs to look at it."),
    "failed": ("Đăng không thành công.", "Publishing failed."),
}


ERROR_CLASSES: dict[str, tuple[str, str]] = {
    ErrorClass.AUTH.value: ("Lỗi xác thực tài khoản", "Account authorisation"),
    ErrorClass.TRANSIENT.value: ("Lỗi tạm thời", "Temporary failure"),
    ErrorClass.PERMANENT.value: ("Không đăng được vĩnh viễn", "Permanent failure"),
}


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._i = LANGS.index(self.lang)

    def __call__(self, key: str) -> str:
        pair = LABELS.get(key)
        return pair[self._i] if pair else key

    def state(self, state: str) -> str:
        pair = STATES.get(state)
        return pair[self._i] if pair else state

    def recipient_state(self, state: str) -> str:
        pair = RECIPIENT_STATES.get(state)
        return pair[self._i] if pair else state

    def event(self, kind: str, state: str | None = None) -> str:
        if kind == "delivery.status" and state:
            return self.state(state)
        pair = EVENTS.get(kind)
        return pair[self._i] if pair else kind

    def error_class(self, error_class: str) -> str:
        pair = ERROR_CLASSES.get(error_class)
        return pair[self._i] if pair else error_class

    def audit_action(self, action: str) -> str:
        pair = AUDIT_ACTIONS.get(action)
        return pair[self._i] if pair else action

    def outcome(self, outcome: str) -> str:
        pair = OUTCOMES.get(outcome)
        return pair[self._i] if pair else outcome

    @staticmethod
    def channel(channel: str) -> str:
        return CHANNELS.get(channel, channel)

    def reason(self, d: DeliveryOut) -> str:
        """The reason in plain words, then what the platform said."""
        key = d.last_error.error_class.value if d.last_error else d.state.value
        if d.state.value == "retract_failed":
            key = "retract_failed"
        pair = REASONS.get(key)
        plain = pair[self._i] if pair else ""
        said = d.last_error.message if d.last_error and d.last_error.message else (d.note or "")
        code = f" [{d.last_error.code}]" if d.last_error and d.last_error.code else ""
        return f"{plain} {said}{code}".strip()

    @staticmethod
    def time(value: datetime | None) -> str:
        if value is None:
            return "—"
        return value.astimezone(DEFAULT_TIMEZONE).strftime("%H:%M:%S %d/%m/%Y")

    @staticmethod
    def day(value: date) -> str:
        return value.strftime("%d/%m/%Y")

    def number(self, value: int | None) -> str:
        """Thousands grouped the language's way: 12.480 in Vietnamese, 12,480 in English."""
        if value is None:
            return "—"
        grouped = f"{value:,}"
        return grouped.replace(",", ".") if self.lang == "vi" else grouped

    @staticmethod
    def seconds(value: float | None) -> str:
        if value is None:
            return "—"
        if value < 10:
            return f"{value:.1f} s"  # the targets are a few seconds: tenths matter here
        if value < 120:
            return f"{value:.0f} s"
        if value < 7200:
            return f"{value / 60:.1f} min"
        return f"{value / 3600:.1f} h"
