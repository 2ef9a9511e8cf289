"""Question banks: one module per file format, shared validation, storage and import."""
