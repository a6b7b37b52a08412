"""Reports over many analysed calls: what managers act on each morning.

Each report is a function ``build(calls, ...) -> Report`` over ``CallRecord``s (``calls.py``);
``api/reports.py`` writes a ``Report`` as JSON, CSV tables and an HTML chart page.
"""
