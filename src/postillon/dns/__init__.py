"""DNS: the async resolver (dnspython) and the pure MX walk (preference, implicit MX, null MX)."""
