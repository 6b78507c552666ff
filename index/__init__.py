"""The engine: parse documents, chunk them along their own structure, embed, store and search.

This package never imports `bot` or Discord, so it can serve any front end.
"""
