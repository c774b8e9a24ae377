"""Content pipeline: parse and validate files (``loader``), render Markdown (``markdown``)."""
