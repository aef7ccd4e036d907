"""The reference publisher (issue #20 item 1): the least a correct webhook publisher must do, as a
yardstick for Loa's own in the e2e bench. Not used in production; see ``publisher.py``."""
