"""Messages: API payload to RFC 5322 bytes; address and header validation. Pure: no I/O.

The flow, one module each::

    OutgoingEmail (model) --validate()--> ValidEmail --compose()--> ComposedMessage
                                                                    (bytes, rcpt_to, SMTPUTF8?)

* :mod:`.address`        parse/validate mailboxes (dot-atom or quoted local parts, IDNA A-labels,
                         RFC 5321 limits, UTF-8 local parts flagged for SMTPUTF8)
* :mod:`.custom_headers` which extra header fields a caller may set
* :mod:`.validate`       every problem at once, each naming its JSON field (``to[2].email``)
* :mod:`.header_text`    RFC 2047 encoded words, RFC 2231 parameters, folding
* :mod:`.transfer`       CRLF normalisation and the 7bit / quoted-printable / base64 rule
* :mod:`.compose`        the MIME tree and header block; :mod:`.envelope` the RCPT TO list
* :mod:`.errors`         ValidationProblem, InvalidMessageError (TOO_LARGE -> 413), AddressError
"""
