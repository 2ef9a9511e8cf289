"""Error pages: Vietnamese HTML for people, one JSON shape for the API, no stack traces."""

from __future__ import annotations

import logging
import traceback

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from contest.i18n import N_
from contest.web import login_url, translate

log = logging.getLogger("contest.errors")

TITLES = {
    400: N_("Yêu cầu không hợp lệ"),
    401: N_("Cần đăng nhập"),
    403: N_("Không có quyền truy cập"),
    404: N_("Không tìm thấy trang"),
    405: N_("Phương thức không được hỗ trợ"),
    413: N_("Dữ liệu gửi lên quá lớn"),
    429: N_("Quá nhiều yêu cầu"),
    500: N_("Lỗi hệ thống"),
}
MESSAGES = {
    400: N_("Yêu cầu gửi lên không hợp lệ. Vui lòng kiểm tra và thử lại."),
    401: N_("Vui lòng đăng nhập để tiếp tục."),
    403: N_("Tài khoản của bạn không có quyền xem trang này."),
    404: N_("Trang bạn tìm không tồn tại hoặc đã được chuyển đi."),
    405: N_("Thao tác này không được hỗ trợ tại địa chỉ này."),
    413: N_("Dữ liệu hoặc tệp gửi lên vượt quá dung lượng cho phép."),
    429: N_("Bạn thao tác quá nhanh. Vui lòng chờ một lát rồi thử lại."),
    500: N_("Đã có lỗi xảy ra phía máy chủ. Dữ liệu của bạn không bị mất; vui lòng thử lại sau ít phút."),
}
CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 413: "too_large", 429: "too_many_requests", 500: "internal_error"}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str | None = None, code: str | None = None):
    """The one way the platform tells someone a request failed."""
    text = message or translate(request, MESSAGES.get(status, MESSAGES[500]))
    if wants_json(request):
        return Response(
            {"error": {"code": code or CODES.get(status, "error"), "message": text}},
            status_code=status,
            media_type=MediaType.JSON,
        )
    title = translate(request, TITLES.get(status, TITLES[500]))
    return Template("errors/error.html", context={"status": status, "title": title, "message": text},
                    status_code=status)


def http_exception_handler(request: Request, exc: HTTPException):
    if exc.status_code == 401 and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(login_url(target), status_code=303)
    detail = None
    if exc.status_code == 403 and "CSRF" in str(exc.detail):
        detail = translate(request, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang và thử lại.")
    return error_response(request, exc.status_code, detail)


def internal_error_handler(request: Request, exc: Exception):
    log.exception("Unhandled error on %s %s", request.method, request.url.path)
    if request.app.debug:
        return Response(
            "".join(traceback.format_exception(exc)),
            status_code=HTTP_500_INTERNAL_SERVER_ERROR,
            media_type=MediaType.TEXT,
        )
    return error_response(request, HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS = {HTTPException: http_exception_handler, Exception: internal_error_handler}
