"""Sans-I/O SMTP client core: replies, EHLO extensions, commands, DATA encoding, session state."""
