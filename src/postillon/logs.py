"""How ``postillon serve`` writes its log: coloured lines on a terminal, JSON lines elsewhere.

A log file or journald must get one JSON object per line (no ANSI colour codes), with the
event's fields (``message_id``, ``recipient_id``, ...) as keys; a person at a terminal gets
the console renderer. Standard-library loggers (uvicorn) go through the same renderer.
Must not decide what is logged.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import Processor


def configure_logging(*, is_terminal: bool, level: int = logging.INFO) -> None:
    """Route structlog and standard logging to stdout, rendered for a terminal or as JSON."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # JSON carries a traceback as text in "exception"; the console renders it itself.
    rendering: list[Processor] = (
        [structlog.dev.ConsoleRenderer(colors=True)]
        if is_terminal
        else [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *rendering,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
