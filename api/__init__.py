"""Storage, jobs, the FastAPI service and the ``callscope`` command line."""
