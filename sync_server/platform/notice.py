"""The public notice (公示) and its objections, for the server's CLI.

The rules live in :mod:`visitapp.domain.notice` (pure, Qt- and storage-free), so the officer's
desktop and this CLI enforce one implementation; this module re-exports them under the names
the CLI already uses.
"""

from visitapp.domain.notice import (  # noqa: F401
    NoticeLine, NoticeView, ObjectionLine, close_blockers, close_notice, handle_objection, notice_view,
    open_notice, record_objection, table_zh,
)
