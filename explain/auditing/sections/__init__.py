"""One module per audit section, each declaring its ``SECTION`` (a
:class:`~explain.auditing.common.SectionSpec`: name, title, run, figures); the registry
(:mod:`explain.auditing.registry`) lists them in report order."""
