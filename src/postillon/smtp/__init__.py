"""Sans-I/O SMTP client core: replies, EHLO extensions, commands, DATA encoding, session state.

Modules: ``reply`` (Reply, EnhancedStatus, ReplyParser with hard limits), ``extensions``
(parse_ehlo → Extensions), ``commands`` (command lines; injection refused), ``data``
(streaming CRLF normalisation and dot-stuffing), ``transaction`` (Envelope, TransactionResult),
``events`` (Phase and the actions a driver performs), ``session`` (ClientSession, the state
machine), ``transcript``, ``errors``. Nothing here imports asyncio, ssl or socket; the
asyncio driver is postillon.transport.
"""
