"""Reports of a run folder: annotated screenshots, the HTML page and the GIF (``glmv-agent report``)."""

from .writer import load_run, write_report

__all__ = ["load_run", "write_report"]
