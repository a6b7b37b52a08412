"""Web pages for QA reviewers, supervisors and telesales: server-side Jinja2 templates with a little
htmx and ECharts (both vendored: no CDN), in Chinese with an English switch."""
