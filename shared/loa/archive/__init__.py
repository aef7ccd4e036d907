"""The archive of record (#24 item 2): every content event and platform answer, hash-chained per
content in the object store, exported as a signed ZIP and verified (``loa archive``)."""
