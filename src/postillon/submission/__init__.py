"""SMTP submission (RFC 6409), the second door in: clients authenticate with an API key.

Modules: ``door`` (what each connection accepts: AUTH, sender authorisation, rate limits,
handing the message to the send service), ``auth_throttle`` (failed AUTH per client address),
``server`` (the listeners built from ``[submission]``). The SMTP protocol itself is the shared
server core (postillon.smtp.server_session, postillon.transport.smtp_listener). Must not store
anything except through the send service.
"""

from postillon.submission.server import SubmissionServer

__all__ = ["SubmissionServer"]
