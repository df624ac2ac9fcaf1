"""Item pipelines, one module per stage, in this order (crawler/settings.py holds the numbers):

100 validate  — an article needs a code, title, date and body; else quarantine
200 clean     — lxml scoping and unwrapping, then the nh3 allow-list, last
300 dates     — the raw date becomes an aware Beijing-time datetime
400 post      — the post format of SPEC §6 (front matter, body, footer, category slug)
800 store     — one database row per article, the post file, the category page

Each stage is a thin Scrapy class over a pure function that tests call directly.
A quarantined item passes the later stages untouched and is stored as a
quarantine row, never published.  Support modules: writer (how one article changes
rows and files), dedupe and fingerprint (duplicates across codes), projection (the
site rebuilt from the database), site (file names, undoable file changes), records
(race-safe writes), models (tables), db (engine, migrations), files (atomic writes).
"""
