"""Residents' import jobs: a file uploaded straight to S3, read once by the imports consumer into a row copy, then
applied chunk by chunk (one queue message each) with batched writes; progress and every failed row kept on the job.

``files`` (reading CSV and XLSX, the row copy, the error file; pure) · ``domain`` (the job and its rules; pure) ·
``jobs`` (the routes' use cases) · ``worker`` (the queue consumer) · ``repository`` (job items) · ``api`` (routes).
The rows themselves are checked by ``residents.csv_files`` and written by ``residents.roster``, which the small
synchronous CSV import shares.
"""
