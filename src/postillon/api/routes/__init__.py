"""One module per resource: ``emails`` (/v1/emails) and ``domains`` (/v1/domains)."""
