"""lo-sync: course catalogs and learner statistics from content providers into SQLite."""

__version__ = "0.1.0"
